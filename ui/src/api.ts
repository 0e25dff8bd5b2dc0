// The one API client of the panel: the session token, JSON calls, problem+json errors and the
// delivery stream. Its types come from the API's own zod schemas (type-only: nothing of the server
// is bundled but its vocabulary, which imports nothing).
import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { z } from 'zod';
import type * as schema from '../../src/api/schemas';

export { DELIVERY_STATUSES, KEY_SCOPES, PUBLISHER_SCOPES } from '../../src/api/vocabulary';

type Out<T extends z.ZodType> = z.output<T>;

export type Application = Out<typeof schema.Application>;
export type Key = Out<typeof schema.Key>;
export type KeyWithToken = Out<typeof schema.KeyWithToken>;
export type KeyScope = Key['scopes'][number];
export type PublisherKey = Out<typeof schema.PublisherKey>;
export type PublisherKeyWithToken = Out<typeof schema.PublisherKeyWithToken>;
export type PublisherScope = PublisherKey['scopes'][number];
export type HeraldEvent = Out<typeof schema.Event>;
export type Entity = Out<typeof schema.Entity>;
/** `secret` only in the answers to create and rotate-secret. */
export type Webhook = Out<typeof schema.Webhook> & { secret?: string };
export type WebhookStatus = Webhook['status'];
export type TestResult = Out<typeof schema.TestResult>;
export type Sync = Out<typeof schema.Sync>;
export type Recovery = Out<typeof schema.Recovery>;
export type Delivery = Out<typeof schema.Delivery>;
export type DeliveryStatus = Delivery['status'];
export type Attempt = Out<typeof schema.Attempt>;
export type DeliveryDetail = Out<typeof schema.DeliveryDetail>;
export type WebhookStats = Out<typeof schema.WebhookStats>;
export type StatsWindow = WebhookStats['window'];
/** One `attempt` server-sent event of the delivery stream. */
export interface AttemptNotice {
  webhookId: string;
  deliveryId: string;
  attemptId: string;
  attemptNumber: number;
  eventId: string;
  eventType: string;
  outcome: Attempt['outcome'];
  deliveryStatus: DeliveryStatus;
  responseStatus: number | null;
  startedAt: string;
  durationMs: number;
  workflowUrl: string | null;
}
/** One `delivery` server-sent event: a delivery became held, failed or cancelled. */
export interface DeliveryStateNotice {
  webhookId: string;
  deliveryId: string;
  eventId: string;
  eventType: string;
  deliveryStatus: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: string | null;
  createdAt: string;
}
export type DeliveryNotice =
  | { event: 'attempt'; data: AttemptNotice }
  | { event: 'delivery'; data: DeliveryStateNotice };
export interface List<T> {
  data: T[];
  nextCursor: string | null;
}

/** An RFC 9457 problem from the API; `errors` name the fields of a validation error. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly errors: { path: string; message: string }[] = [],
  ) {
    super(detail);
  }
  /** Messages of the fields at `path` or below it (`body.events` matches `body.events.0`). */
  at(path: string): string[] {
    return this.errors.filter((e) => e.path === path || e.path.startsWith(`${path}.`)).map((e) => e.message);
  }
}

const TOKEN_KEY = 'herald.token';
let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
let onUnauthorized = () => {};

export const session = {
  get token() {
    return token;
  },
  set(value: string) {
    token = value;
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
  /** Called when a stored token stops working (revoked key, new admin token). */
  onUnauthorized(fn: () => void) {
    onUnauthorized = fn;
  },
};

export async function call<T>(method: string, path: string, body?: unknown, auth = token): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${auth}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'Network error', 'Herald did not answer; check that it is running.');
  }
  const text = await res.text();
  let parsed: Partial<{ title: string; detail: string; errors: ApiError['errors'] }> | undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    if (res.status === 401 && auth === token && token) onUnauthorized();
    throw new ApiError(
      res.status,
      parsed?.title ?? res.statusText,
      parsed?.detail ?? (text || `HTTP ${res.status}`),
      parsed?.errors,
    );
  }
  return parsed as T;
}

const q = (params: Record<string, string | number | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};
const enc = encodeURIComponent;

export const api = {
  /** Which kind of token this is: the admin's passes the admin-only applications list. */
  async whoAmI(candidate: string): Promise<'admin' | 'key'> {
    try {
      await call('GET', '/v1/applications?limit=1', undefined, candidate);
      return 'admin';
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return 'key';
      throw err;
    }
  },
  applications: () => call<List<Application>>('GET', '/v1/applications?limit=100'),
  application: (id: string) => call<Application>('GET', `/v1/applications/${enc(id)}`),
  createApplication: (body: Record<string, unknown>) => call<Application>('POST', '/v1/applications', body),
  updateApplication: (id: string, body: Record<string, unknown>) =>
    call<Application>('PATCH', `/v1/applications/${enc(id)}`, body),
  keys: (appId: string) => call<List<Key>>('GET', `/v1/applications/${enc(appId)}/keys?limit=100`),
  createKey: (appId: string, body: Record<string, unknown>) =>
    call<KeyWithToken>('POST', `/v1/applications/${enc(appId)}/keys`, body),
  revokeKey: (appId: string, keyId: string) =>
    call<void>('DELETE', `/v1/applications/${enc(appId)}/keys/${enc(keyId)}`),
  publisherKeys: () => call<List<PublisherKey>>('GET', '/v1/publisher-keys?limit=100'),
  createPublisherKey: (body: Record<string, unknown>) =>
    call<PublisherKeyWithToken>('POST', '/v1/publisher-keys', body),
  revokePublisherKey: (keyId: string) => call<void>('DELETE', `/v1/publisher-keys/${enc(keyId)}`),
  events: (filter: { type?: string; entityType?: string; entityId?: string; cursor?: string }) =>
    call<List<HeraldEvent>>('GET', `/v1/events${q({ ...filter, limit: 20 })}`),
  entity: (type: string, id: string) => call<Entity>('GET', `/v1/entities/${enc(type)}/${enc(id)}`),
  entities: (type: string) => call<List<Entity>>('GET', `/v1/entities/${enc(type)}?limit=100`),
  eventTypes: () => call<{ data: { type: string }[] }>('GET', '/v1/event-types'),
  webhooks: (applicationId?: string) =>
    call<List<Webhook>>('GET', `/v1/webhooks${q({ applicationId, limit: 100 })}`),
  webhook: (id: string) => call<Webhook>('GET', `/v1/webhooks/${enc(id)}`),
  createWebhook: (body: Record<string, unknown>) => call<Webhook>('POST', '/v1/webhooks', body),
  updateWebhook: (id: string, body: Record<string, unknown>) =>
    call<Webhook>('PATCH', `/v1/webhooks/${enc(id)}`, body),
  deleteWebhook: (id: string) => call<void>('DELETE', `/v1/webhooks/${enc(id)}`),
  webhookAction: (id: string, action: 'pause' | 'resume' | 'rotate-secret') =>
    call<Webhook>('POST', `/v1/webhooks/${enc(id)}/${action}`),
  test: (id: string) => call<TestResult>('POST', `/v1/webhooks/${enc(id)}/test`),
  startSync: (id: string, entityTypes?: string[]) =>
    call<Sync>('POST', `/v1/webhooks/${enc(id)}/syncs`, entityTypes ? { entityTypes } : {}),
  latestSync: async (id: string) =>
    (await call<List<Sync>>('GET', `/v1/webhooks/${enc(id)}/syncs?limit=1`)).data[0],
  sync: (id: string) => call<Sync>('GET', `/v1/syncs/${enc(id)}`),
  syncAction: (id: string, action: 'pause' | 'resume' | 'cancel') =>
    call<Sync>('POST', `/v1/syncs/${enc(id)}/${action}`),
  startRecovery: (id: string, since: string) =>
    call<Recovery>('POST', `/v1/webhooks/${enc(id)}/recover`, { since }),
  latestRecovery: async (id: string) =>
    (await call<List<Recovery>>('GET', `/v1/webhooks/${enc(id)}/recoveries?limit=1`)).data[0],
  recovery: (id: string) => call<Recovery>('GET', `/v1/recoveries/${enc(id)}`),
  recoveryAction: (id: string, action: 'pause' | 'resume' | 'cancel') =>
    call<Recovery>('POST', `/v1/recoveries/${enc(id)}/${action}`),
  deliveries: (webhookId: string, status?: string) =>
    call<List<Delivery>>('GET', `/v1/webhooks/${enc(webhookId)}/deliveries${q({ status, limit: 50 })}`),
  stats: (webhookId: string, window: StatsWindow) =>
    call<WebhookStats>('GET', `/v1/webhooks/${enc(webhookId)}/stats${q({ window })}`),
  delivery: (id: string) => call<DeliveryDetail>('GET', `/v1/deliveries/${enc(id)}`),
  redeliver: (id: string) => call<Delivery>('POST', `/v1/deliveries/${enc(id)}/redeliver`),
};

/**
 * Follows the webhook's delivery stream until `signal` aborts, calling `onNotice` per event.
 * EventSource cannot send the token in a header, so this reads the text/event-stream with fetch.
 * Resolves when the server ends the stream; rejects on an HTTP or network error.
 */
export async function streamDeliveries(
  webhookId: string,
  onNotice: (n: DeliveryNotice) => void,
  onOpen: () => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(`/v1/webhooks/${enc(webhookId)}/deliveries/stream`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal,
  });
  if (!res.ok || !res.body) throw new ApiError(res.status, res.statusText, 'The live log is unavailable.');
  // The server answers once it has registered this stream: a list read now misses nothing.
  onOpen();
  const events = res.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  for (;;) {
    const { value, done } = await events.read();
    if (done) return;
    if (value.event !== 'attempt' && value.event !== 'delivery') continue;
    try {
      onNotice({ event: value.event, data: JSON.parse(value.data) } as DeliveryNotice);
    } catch {
      // A malformed event is skipped; the next list refresh shows the truth.
    }
  }
}
