import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Lets every schema below carry its OpenAPI name and examples: one source for types, validation and docs.
extendZodWithOpenApi(z);

export const KEY_SCOPES = [
  'webhooks:read',
  'webhooks:write',
  'deliveries:read',
  'sync:run',
  'events:publish',
] as const;
export const ACTIONS = ['created', 'updated', 'deleted', 'test', 'sync'] as const;
/** A delivery's states; docs/lifecycle.md draws the transitions and names each one's writer. */
export const DELIVERY_STATUSES = [
  'pending',
  'held',
  'sending',
  'retrying',
  'succeeded',
  'failed',
  'cancelled',
] as const;

const name = z.string().trim().min(1).max(200);
/** Entity types and ids: short, printable, no dots in types (the dot separates type and action). */
const entityType = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, "_" or "-", starting with a letter');
const entityId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
const scopeList = z.array(z.string().min(1).max(200)).max(100);

export const Id = z.string().min(1).max(100);

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() });

// --- applications and keys ---

export const AccessSchema = z
  .object({
    entityTypes: z
      .array(z.union([z.literal('*'), entityType]))
      .min(1)
      .max(100),
    scopes: scopeList.min(1),
  })
  .strict();

// --- throttles and order (a webhook's, or its application's default) ---

const MaxRequestsPerSecond = z.number().positive().max(10_000).nullable().openapi({
  description:
    'Requests a second at most to a webhook, across all workers and every kind of sending; null: none (on a webhook: the application default)',
});
const MaxInFlight = z.number().int().min(1).max(10_000).nullable().openapi({
  description:
    'Requests under way at once at most to a webhook; null: none (on a webhook: the application default)',
});
const Ordering = z.enum(['none', 'strict']).openapi({
  description:
    '`strict`: a request starts only after the previous delivery to the webhook ended (succeeded, or failed after its retries), in published order',
});

export const ApplicationCreate = z
  .object({
    name,
    access: AccessSchema,
    maxRequestsPerSecond: MaxRequestsPerSecond.default(null),
    maxInFlight: MaxInFlight.default(null),
  })
  .strict()
  .openapi('ApplicationCreate');
export const ApplicationPatch = z
  .object({
    name: name.optional(),
    access: AccessSchema.optional(),
    maxRequestsPerSecond: MaxRequestsPerSecond.optional(),
    maxInFlight: MaxInFlight.optional(),
  })
  .strict()
  .openapi('ApplicationPatch');
export const Application = z
  .object({
    id: z.string(),
    name: z.string(),
    access: AccessSchema,
    maxRequestsPerSecond: z.number().nullable(),
    maxInFlight: z.number().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Application');

export const KeyCreate = z
  .object({
    name,
    scopes: z.array(z.enum(KEY_SCOPES)).min(1),
    subject: z.object({ type: entityType, id: entityId }).strict().optional(),
  })
  .strict()
  .openapi('KeyCreate');
export const Key = z
  .object({
    id: z.string(),
    applicationId: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(KEY_SCOPES)),
    subject: z.object({ type: z.string(), id: z.string() }).nullable(),
    tokenHint: z.string(),
    createdAt: z.string(),
  })
  .openapi('Key');
export const KeyWithToken = Key.extend({ token: z.string() }).openapi('KeyWithToken');

// --- webhooks ---

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'not a valid header name');
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'user-agent',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'signature',
]);
export const HeadersSchema = z
  .record(
    headerName,
    z
      .string()
      .max(4096)
      .regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'header values may not contain control characters'),
  )
  .refine((h) => Object.keys(h).length <= 20, 'at most 20 custom headers')
  .refine(
    (h) => Object.keys(h).every((k) => !RESERVED_HEADERS.has(k.toLowerCase())),
    'Herald sets this header itself',
  );

export const EventFilter = z
  .array(
    z
      .string()
      .regex(
        /^(\*|[a-z][a-z0-9_-]*\.(\*|[a-z]+)|\*\.[a-z]+)$/,
        'an event type, "<entity>.*", "*.<action>" or "*"',
      ),
  )
  .max(100);

export const WebhookUrl = z.string().max(2048).url('must be an absolute URL');

/** A user-defined signing key, or omitted for a generated `whsec_` secret. */
const SigningSecret = z.string().min(16, 'at least 16 characters').max(256);

export const WebhookCreate = z
  .object({
    applicationId: Id.optional().openapi({
      description: 'Admin only: the application that owns the webhook',
    }),
    url: WebhookUrl,
    label: z.string().max(200).default(''),
    method: z.enum(['POST', 'GET']).default('POST'),
    events: EventFilter.default([]),
    signature: z.enum(['standard-webhooks', 'hmac-sha256']).default('standard-webhooks'),
    secret: SigningSecret.optional(),
    syncIntervalMs: z.number().int().min(0).max(3_600_000).default(0),
    headers: HeadersSchema.default({}),
    status: z.enum(['active', 'paused']).default('active'),
    maxRequestsPerSecond: MaxRequestsPerSecond.default(null),
    maxInFlight: MaxInFlight.default(null),
    ordering: Ordering.default('none'),
  })
  .strict()
  .openapi('WebhookCreate');

export const WebhookPatch = z
  .object({
    url: WebhookUrl.optional(),
    label: z.string().max(200).optional(),
    method: z.enum(['POST', 'GET']).optional(),
    events: EventFilter.optional(),
    signature: z.enum(['standard-webhooks', 'hmac-sha256']).optional(),
    syncIntervalMs: z.number().int().min(0).max(3_600_000).optional(),
    headers: HeadersSchema.optional(),
    status: z.enum(['active', 'paused']).optional(),
    maxRequestsPerSecond: MaxRequestsPerSecond.optional(),
    maxInFlight: MaxInFlight.optional(),
    ordering: Ordering.optional(),
  })
  .strict()
  .openapi('WebhookPatch');

export const Webhook = z
  .object({
    id: z.string(),
    applicationId: z.string(),
    label: z.string(),
    url: z.string(),
    method: z.enum(['POST', 'GET']),
    events: z.array(z.string()),
    signature: z.enum(['standard-webhooks', 'hmac-sha256']),
    syncIntervalMs: z.number(),
    headers: z.record(z.string(), z.string()),
    status: z.enum(['active', 'paused', 'disabled']),
    disabledReason: z.string().nullable(),
    maxRequestsPerSecond: z.number().nullable(),
    maxInFlight: z.number().nullable(),
    ordering: Ordering,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Webhook');
export const WebhookWithSecret = Webhook.extend({ secret: z.string() }).openapi('WebhookWithSecret');

export const WebhookListQuery = ListQuery.extend({ applicationId: Id.optional() });

// --- events, deliveries, attempts ---

export const EventPublish = z
  .object({
    id: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, "_", ".", ":" or "-"')
      .optional()
      .openapi({ description: 'Idempotency key: a repeat within 24 h returns the first result' }),
    type: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,63}\.(created|updated|deleted)$/, '"<entity type>.created|updated|deleted"'),
    entity: z.object({ type: entityType, id: entityId }).strict(),
    data: z.record(z.string(), z.unknown()).optional(),
    scopes: scopeList.optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.type.split('.')[0] !== e.entity.type) {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: `must start with the entity type "${e.entity.type}."`,
      });
    }
  })
  .openapi('EventPublish');

export const DeliveryRefSchema = z.object({
  id: z.string(),
  webhookId: z.string(),
  status: z.enum(DELIVERY_STATUSES),
});
export const EventAccepted = z
  .object({ id: z.string(), deliveries: z.array(DeliveryRefSchema) })
  .openapi('EventAccepted');

export const Event = z
  .object({
    id: z.string(),
    type: z.string(),
    action: z.enum(ACTIONS),
    entity: z.object({ type: z.string(), id: z.string() }),
    data: z.unknown(),
    createdAt: z.string(),
    deliveries: z.array(DeliveryRefSchema),
  })
  .openapi('Event');

export const Attempt = z
  .object({
    id: z.string(),
    deliveryId: z.string(),
    attemptNumber: z.number(),
    startedAt: z.string(),
    durationMs: z.number(),
    outcome: z.enum(['succeeded', 'failed', 'blocked']),
    request: z.object({
      url: z.string(),
      method: z.string(),
      headers: z.record(z.string(), z.string()),
      body: z.string(),
    }),
    response: z
      .object({
        status: z.number(),
        headers: z.record(z.string(), z.string()),
        body: z
          .string()
          .openapi({ description: 'The first 64 KiB the receiver answered, as `bodyEncoding` says' }),
        bodyEncoding: z
          .enum(['utf8', 'base64'])
          .openapi({ description: '`utf8`: the bytes as text; `base64`: they are not UTF-8' }),
      })
      .nullable(),
    error: z.object({ kind: z.string(), message: z.string() }).nullable(),
  })
  .openapi('Attempt');

export const Delivery = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attemptCount: z.number(),
    nextAttemptAt: z.string().nullable(),
    failureReason: z.string().nullable().openapi({
      description: "Why a failed delivery failed: the receiver's last answer, or Herald's own trouble",
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
    workflowUrl: z.string().nullable().openapi({
      description: 'The Temporal workflow that owns the delivery; null while none does (pending, held)',
    }),
    lastAttempt: z
      .object({
        outcome: z.enum(['succeeded', 'failed', 'blocked']),
        responseStatus: z.number().nullable().openapi({ description: 'null: no answer (see the attempt)' }),
        durationMs: z.number(),
        startedAt: z.string(),
      })
      .nullable()
      .openapi({ description: 'The latest attempt in short; null before the first' }),
  })
  .openapi('Delivery');
export const DeliveryDetail = Delivery.extend({ payload: z.unknown(), attempts: z.array(Attempt) }).openapi(
  'DeliveryDetail',
);
export const DeliveryListQuery = ListQuery.extend({ status: z.enum(DELIVERY_STATUSES).optional() });

export const StatsQuery = z.object({
  window: z
    .enum(['hour', 'day', 'week'])
    .default('day')
    .openapi({ description: 'hour: 60 one-minute buckets; day: 24 hours; week: 28 six-hour buckets' }),
});
const count = z.number().int();
export const StatsBucket = z
  .object({
    start: z.string(),
    succeeded: count.openapi({ description: 'Deliveries created in the bucket that succeeded' }),
    failed: count.openapi({ description: 'that failed after their retries' }),
    retrying: count.openapi({ description: 'that wait for their next attempt' }),
    held: count.openapi({ description: 'that are held (the webhook paused or disabled)' }),
    attempts: count.openapi({ description: 'Attempts started in the bucket' }),
    p50Ms: z.number().nullable().openapi({ description: "Median of those attempts' durations; null: none" }),
    p95Ms: z.number().nullable().openapi({ description: '95th percentile of their durations' }),
  })
  .openapi('StatsBucket');
export const WebhookStats = z
  .object({
    webhookId: z.string(),
    window: z.enum(['hour', 'day', 'week']),
    bucketSeconds: z.number().int(),
    buckets: z.array(StatsBucket).openapi({ description: 'Oldest first; the last holds now' }),
  })
  .openapi('WebhookStats');

export const TestResult = z
  .object({
    id: z.string(),
    deliveryId: z.string(),
    outcome: z.enum(['succeeded', 'failed', 'blocked']),
    startedAt: z.string(),
    durationMs: z.number(),
    responseStatus: z.number().nullable(),
    responseBody: z.string().nullable(),
    responseBodyEncoding: z.enum(['utf8', 'base64']).nullable(),
    error: z.object({ kind: z.string(), message: z.string() }).nullable(),
  })
  .openapi('TestResult');

export const EntityPut = z
  .object({ data: z.record(z.string(), z.unknown()), scopes: scopeList.default([]) })
  .strict()
  .openapi('EntityPut');
export const Entity = z
  .object({
    type: z.string(),
    id: z.string(),
    scopes: z.array(z.string()),
    data: z.unknown(),
    version: z.number(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Entity');
export const EntityChanged = z
  .object({ entity: Entity.nullable(), event: EventAccepted.nullable() })
  .openapi('EntityChanged');
export const EntityParams = { type: entityType, id: entityId };

export const EventType = z
  .object({ type: z.string(), entityType: z.string(), action: z.string() })
  .openapi('EventType');

export const Health = z.object({ status: z.string(), checks: z.record(z.string(), z.string()).optional() });

export const SyncStart = z
  .object({ entityTypes: z.array(entityType).min(1).max(100).optional() })
  .strict()
  .openapi('SyncStart');
export const Sync = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    entityTypes: z.array(z.string()),
    status: z.enum(['running', 'paused', 'waiting', 'completed', 'cancelled']),
    total: z.number().nullable(),
    sent: z.number(),
    failed: z.number(),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
    workflowUrl: z.string(),
  })
  .openapi('Sync');

// --- bulk recovery ---

export const RecoveryStart = z
  .object({
    since: z.iso
      .datetime({ offset: true })
      .openapi({ description: 'Deliveries created at or after this time' }),
    until: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: 'and before this one (default: now)' }),
    status: z
      .array(z.enum(['failed', 'cancelled']))
      .min(1)
      .default(['failed'])
      .openapi({ description: 'Which deliveries to redeliver (default: the failed ones)' }),
  })
  .strict()
  .refine((r) => !r.until || Date.parse(r.until) > Date.parse(r.since), {
    message: 'must be after since',
    path: ['until'],
  })
  .openapi('RecoveryStart');
export const Recovery = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    since: z.string(),
    until: z.string(),
    status: z.enum(['running', 'paused', 'completed', 'cancelled']),
    statuses: z.array(z.string()),
    total: z.number().nullable(),
    redelivered: z.number(),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
    workflowUrl: z.string(),
  })
  .openapi('Recovery');
