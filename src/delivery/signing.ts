import { createHmac, randomBytes } from 'node:crypto';

/** How a webhook's requests are signed: Standard Webhooks headers, or one body-only HMAC header. */
export type SignatureScheme = 'standard-webhooks' | 'hmac-sha256';

const SECRET_PREFIX = 'whsec_';

/** A generated secret: `whsec_` + base64 of 32 random bytes, as Svix and the spec do. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** `whsec_` secrets are base64 key material; any other (user-defined) key is used as its UTF-8 bytes. */
export function secretKey(secret: string): Buffer {
  return secret.startsWith(SECRET_PREFIX)
    ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/** Standard Webhooks: `v1,` + base64 HMAC-SHA256 over `id.timestamp.body`. */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The `hmac-sha256` option: `sha256=` + hex HMAC of the body alone (GitHub's style). */
export function bodySignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secretKey(secret)).update(body).digest('hex')}`;
}

/**
 * The signing headers of one request. `secrets` holds the current secret first, then any
 * rotated-out secret still inside its grace period: each signs, space-separated, so a receiver
 * holding either one verifies.
 */
export function signatureHeaders(
  scheme: SignatureScheme,
  secrets: string[],
  id: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  const base = { 'webhook-id': id, 'webhook-timestamp': String(timestamp) };
  if (scheme === 'hmac-sha256') {
    return { ...base, signature: secrets.map((s) => bodySignature(s, body)).join(' ') };
  }
  return {
    ...base,
    'webhook-signature': secrets.map((s) => standardSignature(s, id, timestamp, body)).join(' '),
  };
}
