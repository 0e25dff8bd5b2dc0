import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Signing secrets at rest: AES-256-GCM under the keys of HERALD_ENCRYPTION_KEY. The first key
 * encrypts; every key decrypts, so a new key can be put in front while rows still carry the old
 * one (`npm run rotate-encryption-key` then re-encrypts them). A stored value reads
 * `v1:<key id>:<iv>:<tag>:<ciphertext>` (base64url parts); the key id is derived from the key
 * (the first 8 bytes of its SHA-256, hex), so operators name no ids and a ciphertext finds its key.
 */
export const CIPHERTEXT_PREFIX = 'v1:';
export const KEY_BYTES = 32;
const IV_BYTES = 12;
// Binds a ciphertext to what it is, so no other value Herald may encrypt one day can pass for a secret.
const ASSOCIATED_DATA = Buffer.from('herald webhook signing secret');

export interface SecretCipher {
  /** The id of the key that encrypts (the first one). */
  currentKeyId: string;
  encrypt(plaintext: string): string;
  /** Throws a SecretCipherError for a value that is no ciphertext, an unknown key or a tampered value. */
  decrypt(stored: string): string;
  /** The key id a stored ciphertext names, or undefined for a value that is no ciphertext. */
  keyIdOf(stored: string): string | undefined;
}

export class SecretCipherError extends Error {}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export function createSecretCipher(keys: Buffer[]): SecretCipher {
  if (keys.length === 0) throw new SecretCipherError('at least one encryption key is needed');
  for (const key of keys) {
    if (key.length !== KEY_BYTES) throw new SecretCipherError(`an encryption key must be ${KEY_BYTES} bytes`);
  }
  const byId = new Map(keys.map((key) => [keyId(key), key]));
  const currentKeyId = keyId(keys[0]);

  function parts(stored: string): string[] | undefined {
    if (!stored.startsWith(CIPHERTEXT_PREFIX)) return undefined;
    const p = stored.slice(CIPHERTEXT_PREFIX.length).split(':');
    return p.length === 4 ? p : undefined;
  }

  return {
    currentKeyId,
    encrypt(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', keys[0], iv);
      cipher.setAAD(ASSOCIATED_DATA);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      const encoded = [iv, tag, ciphertext].map((part) => part.toString('base64url'));
      return `${CIPHERTEXT_PREFIX}${[currentKeyId, ...encoded].join(':')}`;
    },
    decrypt(stored) {
      const p = parts(stored);
      if (!p) throw new SecretCipherError('the stored secret is not encrypted (run the migrations)');
      const [id, iv, tag, ciphertext] = p;
      const key = byId.get(id);
      if (!key) {
        throw new SecretCipherError(
          `the stored secret is encrypted under key ${id}, which HERALD_ENCRYPTION_KEY does not hold`,
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(ASSOCIATED_DATA);
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([
          decipher.update(Buffer.from(ciphertext, 'base64url')),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new SecretCipherError(`the stored secret does not decrypt under key ${id}: it was altered`);
      }
    },
    keyIdOf(stored) {
      return parts(stored)?.[0];
    },
  };
}

/** A new random key, as HERALD_ENCRYPTION_KEY takes it (base64). */
export function generateEncryptionKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}
