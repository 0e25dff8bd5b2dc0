import { extendZodWithOpenApi, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ACTIONS, DELIVERY_STATUSES, KEY_SCOPES, PUBLISHER_SCOPES } from './vocabulary';

// Lets every schema below carry its OpenAPI name and examples: one source for types, validation and docs.
extendZodWithOpenApi(z);

/** PostgreSQL stores no NUL character, in text or in JSONB. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is the character this refuses.
const NO_NUL = /^[^\u0000]*$/;
const UNSTORABLE = 'may not contain NUL or an unpaired surrogate';
/**
 * Text PostgreSQL can store: no NUL (the document's pattern says so) and no unpaired UTF-16
 * surrogate (a pair, one character beyond the BMP, is fine). The second is the server's alone: a
 * JSON Schema pattern cannot name surrogates in the regex dialects validators use (Rust's refuses
 * them), and a well-formed Unicode string has none.
 */
const storable = (s: string) => NO_NUL.test(s) && !/\p{Cs}/u.test(s);
/** Every free-text field of a request. */
const text = () => z.string().regex(NO_NUL, UNSTORABLE).refine(storable, UNSTORABLE);

/**
 * A length limit in characters, in the document as minLength and maxLength. Not zod's .min and
 * .max: they count UTF-16 units, so a character beyond the BMP (an emoji) would count twice, and
 * a string the document allows could be refused (or, with a minimum, one it refuses accepted).
 */
function sized<T extends z.ZodString>(schema: T, limits: { min?: number; max: number }) {
  const { min = 0, max } = limits;
  const message = min > 0 ? `${min} to ${max} characters` : `at most ${max} characters`;
  return schema
    .refine((s) => {
      // A character is one or two units: count characters only where the units leave it open.
      if (s.length < min || s.length > 2 * max) return false;
      if (s.length >= 2 * min && s.length <= max) return true;
      const characters = [...s].length; // the string iterator walks code points
      return characters >= min && characters <= max;
    }, message)
    .openapi({ ...(min > 0 ? { minLength: min } : {}), maxLength: max });
}
/** A record's keys are not emitted as a schema by zod-to-openapi: its property names, by hand. */
const propertyNames = (pattern: RegExp) => ({
  propertyNames: { type: 'string' as const, pattern: pattern.source },
});

/** How deep entity and event data may nest (PostgreSQL's jsonb and the receivers' parsers have limits too). */
export const JSON_MAX_DEPTH = 64;

/**
 * Each string of a JSON value, keys included, that PostgreSQL cannot store, by its path; and a
 * value nested deeper than JSON_MAX_DEPTH. A walk with a stack of its own, not recursion: a body
 * nested thousands deep would otherwise overflow the call stack (a 500).
 */
function refuseUnstorable(root: unknown, ctx: z.RefinementCtx): void {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: root, path: [] }];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { value, path } = next;
    if (typeof value === 'string') {
      if (!storable(value)) ctx.addIssue({ code: 'custom', path, message: UNSTORABLE });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= JSON_MAX_DEPTH) {
      ctx.addIssue({ code: 'custom', path, message: `nested deeper than ${JSON_MAX_DEPTH} levels` });
      continue;
    }
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) stack.push({ value: item, path: [...path, i] });
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (!storable(key))
        ctx.addIssue({ code: 'custom', path: [...path, key], message: `key ${UNSTORABLE}` });
      stack.push({ value: item, path: [...path, key] });
    }
  }
}

type SchemaObject = Parameters<OpenAPIRegistry['registerComponent']>[2];
const JSON_VALUE_REF = { $ref: '#/components/schemas/JsonValue' };
/**
 * The document's JsonValue, by hand (zod-to-openapi writes a recursive schema's null wrongly: a
 * oneOf that matches null twice, or loses it): recursive, so that every level says what the server
 * (refuseUnstorable) refuses. The nesting limit is in its description: JSON Schema cannot count
 * levels of a recursive value. openapi.ts registers it.
 */
export const JSON_VALUE_DOCUMENT: SchemaObject = {
  description: `Any JSON value, nested at most ${JSON_MAX_DEPTH} levels, whose strings, keys included, contain no NUL and no unpaired surrogate`,
  anyOf: [
    { type: 'string', pattern: NO_NUL.source },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'null' },
    { type: 'array', items: JSON_VALUE_REF },
    { type: 'object', additionalProperties: JSON_VALUE_REF, ...propertyNames(NO_NUL) },
  ],
};
/** Entity and event data (JSONB refuses NUL and unpaired surrogates with an error: the schema refuses them first, by field). */
const JsonValue = z
  .unknown()
  .superRefine((value, ctx) => refuseUnstorable(value, ctx))
  .openapi(JSON_VALUE_REF as object);
const JsonObject = z.record(text(), JsonValue).openapi(propertyNames(NO_NUL));

/**
 * A name: not blank (the document says so by its pattern, which also refuses NUL), trimmed. Its
 * length is the one sent, as the document's maxLength counts it: checked before the trim.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters this refuses.
const NOT_BLANK = /^[^\u0000]*[^\s\u0000][^\u0000]*$/;
const name = sized(
  z.string().regex(NOT_BLANK, 'may not be blank or contain NUL').refine(storable, UNSTORABLE),
  {
    max: 200,
  },
).trim();
/** Entity types and ids: short, printable, no dots in types (the dot separates type and action). */
const entityType = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, "_" or "-", starting with a letter');
const entityId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
const scopeList = z.array(sized(text(), { min: 1, max: 200 })).max(100);

/** Herald's ids (`wh_...`) and a publisher's event ids: the characters either may have. */
const ID_PATTERN = /^[A-Za-z0-9_.:-]+$/;
export const Id = z.string().min(1).max(100).regex(ID_PATTERN, 'letters, digits, "_", ".", ":" or "-"');
/** A path segment naming a resource by id: event ids, which the publisher chooses, run to 200. */
export const PathId = z.string().min(1).max(200).regex(ID_PATTERN, 'letters, digits, "_", ".", ":" or "-"');

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
  cursor: sized(text(), { max: 200 }).optional(),
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

/** A PATCH with nothing in it is a client's mistake (an empty form, a lost body): 400, not a no-op. */
function changesSomething(patch: object): boolean {
  return Object.keys(patch).length > 0;
}

export const ApplicationCreate = z
  .object({
    name,
    access: AccessSchema,
    maxRequestsPerSecond: MaxRequestsPerSecond.default(null),
    maxInFlight: MaxInFlight.default(null),
  })
  .strict()
  .openapi('ApplicationCreate', {
    example: {
      name: 'Acme Sports Club',
      access: { entityTypes: ['person', 'membership'], scopes: ['org:acme'] },
    },
  });
export const ApplicationPatch = z
  .object({
    name: name.optional(),
    access: AccessSchema.optional(),
    maxRequestsPerSecond: MaxRequestsPerSecond.optional(),
    maxInFlight: MaxInFlight.optional(),
  })
  .strict()
  .refine(changesSomething, 'name at least one field to change')
  .openapi('ApplicationPatch', { minProperties: 1 });
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
  .openapi('KeyCreate', {
    example: { name: 'Acme production', scopes: ['webhooks:read', 'webhooks:write', 'deliveries:read'] },
  });
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

export const PublisherKeyCreate = z
  .object({ name, scopes: z.array(z.enum(PUBLISHER_SCOPES)).min(1) })
  .strict()
  .openapi('PublisherKeyCreate', {
    example: { name: 'membership system', scopes: ['events:publish', 'entities:write'] },
  });
export const PublisherKey = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(PUBLISHER_SCOPES)),
    tokenHint: z.string(),
    createdAt: z.string(),
  })
  .openapi('PublisherKey');
export const PublisherKeyWithToken = PublisherKey.extend({ token: z.string() }).openapi(
  'PublisherKeyWithToken',
);

// --- webhooks ---

const RESERVED_HEADERS = [
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
];
/** A header token (RFC 9110) that is none of RESERVED_HEADERS, in any case: one pattern the document can carry. */
const HEADER_NAME = new RegExp(
  `^(?!(?:${RESERVED_HEADERS.map((h) => [...h].map((c) => (/[a-z]/.test(c) ? `[${c}${c.toUpperCase()}]` : c)).join('')).join('|')})$)[A-Za-z0-9!#$%&'*+.^_\`|~-]{1,100}$`,
);
const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'not a valid header name')
  .refine((k) => !RESERVED_HEADERS.includes(k.toLowerCase()), 'Herald sets this header itself')
  .openapi({ pattern: HEADER_NAME.source });
export const HeadersSchema = z
  .record(
    headerName,
    z
      .string()
      .max(4096)
      .regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'header values may not contain control characters'),
  )
  .refine((h) => Object.keys(h).length <= 20, 'at most 20 custom headers')
  .openapi({ ...propertyNames(HEADER_NAME), maxProperties: 20 });

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

export const WebhookUrl = sized(z.string(), { max: 2048 }).url('must be an absolute URL');

/** A user-defined signing key, or omitted for a generated `whsec_` secret. */
const SigningSecret = sized(text(), { min: 16, max: 256 });

export const WebhookCreate = z
  .object({
    applicationId: Id.optional().openapi({
      description: 'Admin only: the application that owns the webhook',
    }),
    url: WebhookUrl,
    label: sized(text(), { max: 200 }).default(''),
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
  .openapi('WebhookCreate', {
    example: { url: 'https://hooks.example.com/herald', label: 'CRM', events: ['person.*'] },
  });

export const WebhookPatch = z
  .object({
    url: WebhookUrl.optional(),
    label: sized(text(), { max: 200 }).optional(),
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
  .refine(changesSomething, 'name at least one field to change')
  .openapi('WebhookPatch', { minProperties: 1 });

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
    data: JsonObject.optional(),
    scopes: scopeList.optional(),
  })
  .strict()
  .openapi('EventPublish', {
    example: {
      type: 'person.updated',
      entity: { type: 'person', id: 'p-1042' },
      data: { name: 'Ada Lovelace', email: 'ada@example.org' },
      scopes: ['org:acme'],
    },
  });

export const DeliveryRefSchema = z.object({
  id: z.string(),
  webhookId: z.string(),
  status: z.enum(DELIVERY_STATUSES),
});
export const EventAccepted = z
  .object({ id: z.string(), deliveries: z.array(DeliveryRefSchema) })
  .openapi('EventAccepted');

/** The most events one batch may carry. */
export const MAX_BATCH_EVENTS = 500;

export const EventBatch = z
  .object({
    events: z
      .array(EventPublish)
      .min(1)
      .max(MAX_BATCH_EVENTS)
      .openapi({ description: `1 to ${MAX_BATCH_EVENTS} events, published in this order` }),
  })
  .strict()
  .openapi('EventBatch', {
    example: {
      events: [
        {
          type: 'person.created',
          entity: { type: 'person', id: 'p-1043' },
          data: { name: 'Grace Hopper' },
          scopes: ['org:acme'],
        },
        { type: 'person.deleted', entity: { type: 'person', id: 'p-0999' } },
      ],
    },
  });

export const EventBatchAccepted = z
  .object({
    data: z.array(
      EventAccepted.extend({
        index: z.number().int().openapi({ description: 'The position of the event in the batch' }),
        status: z.enum(['accepted', 'duplicate']).openapi({
          description: 'duplicate: its id was published before (or earlier in this batch); nothing changed',
        }),
      }),
    ),
  })
  .openapi('EventBatchAccepted');

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

export const EventListQuery = ListQuery.extend({
  type: sized(text(), { min: 1, max: 200 })
    .optional()
    .openapi({ description: 'Only events of this type (exact)' }),
  entityType: entityType.optional().openapi({ description: 'Only events of this entity type' }),
  entityId: entityId
    .optional()
    .openapi({ description: 'Only events of entities with this id (with entityType: of this entity)' }),
});

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
  .object({ data: JsonObject, scopes: scopeList.default([]) })
  .strict()
  .openapi('EntityPut', {
    example: { data: { name: 'Ada Lovelace', email: 'ada@example.org' }, scopes: ['org:acme'] },
  });
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
  // Unions, not nullable(): zod-to-openapi drops the null of a nullable component it has already written.
  .object({ entity: z.union([Entity, z.null()]), event: z.union([EventAccepted, z.null()]) })
  .openapi('EntityChanged', {
    description:
      '`entity`: after an upsert, the stored entity (changed or not); null after a delete. `event`: the event the change emitted; null when an upsert changed nothing.',
  });
export const EntityParams = { type: entityType, id: entityId };

export const EventType = z
  .object({ type: z.string(), entityType: z.string(), action: z.string() })
  .openapi('EventType');

export const Health = z.object({ status: z.string(), checks: z.record(z.string(), z.string()).optional() });

export const SyncStart = z
  .object({ entityTypes: z.array(entityType).min(1).max(100).optional() })
  .strict()
  .openapi('SyncStart', { example: { entityTypes: ['person'] } });
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
  .openapi('RecoveryStart', { example: { since: '2026-11-30T00:00:00Z', status: ['failed'] } });
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
