import type { DeliveryContext } from '../db/queries/deliveries';

/** The JSON body every receiver gets (DESIGN.md, "What a receiver gets"). */
export function buildEnvelope(event: DeliveryContext['event']): Record<string, unknown> {
  return {
    id: event.id,
    type: event.type,
    createdAt: event.createdAt.toISOString(),
    action: event.action,
    entity: { type: event.entityType, id: event.entityId },
    data: event.data,
    ...(event.sync ? { sync: event.sync } : {}),
  };
}

/** GET webhooks carry the same envelope as a base64url `payload` query parameter. */
export function getRequestUrl(webhookUrl: string, body: string): string {
  const url = new URL(webhookUrl);
  url.searchParams.set('payload', Buffer.from(body).toString('base64url'));
  return url.toString();
}

const SENSITIVE_HEADER = /auth|token|secret|key|password|cookie|session/i;

/** Custom headers whose names suggest credentials are recorded as `[redacted]`. */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, SENSITIVE_HEADER.test(k) ? '[redacted]' : v]),
  );
}
