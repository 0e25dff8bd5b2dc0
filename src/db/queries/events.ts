import type { TestDelivery } from '../../../workflows/shared';
import { newId } from '../../ids';
import { type Pool, type PoolClient, prepared } from '../pool';
import { page } from './pagination';

export interface NewEvent {
  type: string;
  action: string;
  entityType: string;
  entityId: string;
  data: Record<string, unknown>;
  scopes: string[];
}

export interface FanOutDelivery {
  id: string;
  webhookId: string;
  applicationId: string;
  eventType: string;
  status: 'pending' | 'held';
}

export interface PublishResult {
  id: string;
  deliveries: FanOutDelivery[];
}

const toFanOut = (eventType: string) => (r: Record<string, string>) =>
  ({
    id: r.id,
    webhookId: r.webhook_id,
    applicationId: r.application_id,
    eventType,
    status: r.status,
  }) as FanOutDelivery;

/**
 * POST /v1/events in one round trip (herald_publish, migration 005): updates the entity's
 * snapshot from the event, writes the event and its fan-out. Data and scopes the event leaves out
 * are the entity's last ones. An event id seen before changes nothing and answers as its first
 * publish did (one more round trip, for repeats only).
 */
export async function publishEvent(
  pool: Pool,
  e: Omit<NewEvent, 'data' | 'scopes'> & { id: string; data?: Record<string, unknown>; scopes?: string[] },
): Promise<PublishResult> {
  const firstAnswer = async () => (await deliveriesOf(pool, [e.id], 'first')).get(e.id) ?? [];
  try {
    const { rows } = await pool.query(
      prepared('publish_event', 'SELECT * FROM herald_publish($1, $2, $3, $4, $5, $6, $7)', [
        e.id,
        e.type,
        e.action,
        e.entityType,
        e.entityId,
        e.data === undefined ? null : JSON.stringify(e.data),
        e.scopes ?? null,
      ]),
    );
    if (rows[0]?.duplicate) return { id: e.id, deliveries: await firstAnswer() };
    return { id: e.id, deliveries: rows.map(toFanOut(e.type)) };
  } catch (err) {
    // The same id published concurrently for another entity: the first one stands.
    const pgErr = err as { code?: string; constraint?: string };
    if (pgErr.code !== '23505' || pgErr.constraint !== 'events_pkey') throw err;
    return { id: e.id, deliveries: await firstAnswer() };
  }
}

export type BatchEvent = Parameters<typeof publishEvent>[1];

/** One event of a batch as published: a repeat of an id seen before (or earlier in the batch) is a duplicate. */
export interface BatchResult extends PublishResult {
  duplicate: boolean;
}

/**
 * POST /v1/events/batch in one statement, so one transaction and one round trip
 * (herald_publish_batch, migration 016): each event as publishEvent writes it, in order; set-wide
 * when no id or entity occurs twice in the batch, event by event when one does.
 * A concurrent publish of one of its ids for another entity fails the statement; the batch is
 * then tried once more, when that id is a duplicate.
 */
export async function publishBatch(pool: Pool, events: BatchEvent[]): Promise<BatchResult[]> {
  const payload = JSON.stringify(
    events.map((e) => ({
      id: e.id,
      type: e.type,
      action: e.action,
      entityType: e.entityType,
      entityId: e.entityId,
      ...(e.data === undefined ? {} : { data: e.data }),
      ...(e.scopes === undefined ? {} : { scopes: e.scopes }),
    })),
  );
  const run = () =>
    pool.query<{ idx: number; duplicate: boolean; deliveries: Omit<FanOutDelivery, 'eventType'>[] }>(
      prepared('publish_batch', 'SELECT * FROM herald_publish_batch($1)', [payload]),
    );
  let rows: Awaited<ReturnType<typeof run>>['rows'];
  try {
    rows = (await run()).rows;
  } catch (err) {
    const pgErr = err as { code?: string; constraint?: string };
    if (pgErr.code !== '23505' || pgErr.constraint !== 'events_pkey') throw err;
    rows = (await run()).rows;
  }
  const repeated = rows.filter((r) => r.duplicate).map((r) => events[r.idx].id);
  const first = repeated.length > 0 ? await deliveriesOf(pool, repeated, 'first') : undefined;
  return rows.map((r) => ({
    id: events[r.idx].id,
    duplicate: r.duplicate,
    deliveries:
      first?.get(events[r.idx].id) ?? r.deliveries.map((d) => ({ ...d, eventType: events[r.idx].type })),
  }));
}

/** Writes one event and its fan-out deliveries (herald_fan_out) in the caller's transaction, for the entity routes. */
export async function insertEventWithDeliveries(db: PoolClient, e: NewEvent): Promise<PublishResult> {
  const id = newId('evt');
  await db.query(
    prepared(
      'insert_event',
      `INSERT INTO events (id, type, action, entity_type, entity_id, data, scopes)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, e.type, e.action, e.entityType, e.entityId, e.data, e.scopes],
    ),
  );
  const { rows } = await db.query(
    prepared('fan_out', 'SELECT * FROM herald_fan_out($1, $2, $3, $4) ORDER BY id', [
      id,
      e.type,
      e.entityType,
      e.scopes,
    ]),
  );
  return { id, deliveries: rows.map(toFanOut(e.type)) };
}

/**
 * A Run Test's `webhook.test` event and its one delivery, owned by the test workflow. Written by
 * that workflow's activity, so a test that never started leaves nothing behind; written once
 * (the ids are the API's), so a retried activity changes nothing.
 */
export async function insertTestDelivery(
  db: Pool,
  t: TestDelivery,
  deliveryId: string,
  owner: string | undefined,
): Promise<void> {
  await db.query(
    `WITH event AS (
       INSERT INTO events (id, type, action, entity_type, entity_id, data, scopes)
       VALUES ($1, 'webhook.test', 'test', $2, $3, $4, '{}') ON CONFLICT (id) DO NOTHING
     )
     INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status, workflow_id)
     SELECT $5, $1, $6, $7, 'webhook.test', 'pending', $8
      WHERE NOT EXISTS (SELECT 1 FROM deliveries WHERE id = $5)`,
    [
      t.eventId,
      t.entity.type,
      t.entity.id,
      t.entity.data,
      deliveryId,
      t.webhookId,
      t.applicationId,
      owner ?? null,
    ],
  );
}

/**
 * The deliveries of events by event id, each with its status now, or (`first`) with the status it
 * was created with (migration 017): what the event's first publish answered.
 */
async function deliveriesOf(
  db: Pool | PoolClient,
  eventIds: string[],
  status: 'now' | 'first',
): Promise<Map<string, FanOutDelivery[]>> {
  const { rows } = await db.query(
    prepared(
      `deliveries_of_events_${status}`,
      `SELECT event_id, id, webhook_id, application_id, event_type,
              ${status === 'first' ? 'coalesce(created_status, status)' : 'status'} AS status
         FROM deliveries WHERE event_id = ANY($1) ORDER BY event_id, id`,
      [eventIds],
    ),
  );
  const byEvent = new Map<string, FanOutDelivery[]>(eventIds.map((id) => [id, []]));
  for (const r of rows) byEvent.get(r.event_id)?.push(toFanOut(r.event_type)(r));
  return byEvent;
}

/** The events columns the envelope builder reads. */
interface EventColumns {
  id: string;
  type: string;
  action: string;
  entity_type: string;
  entity_id: string;
  data: unknown;
  sync: unknown;
  /** A string in the row's `to_jsonb`. */
  created_at: Date | string;
}
/** An events row (or its `to_jsonb`, where created_at is a string) as the envelope builder takes it. */
export function toEvent(r: EventColumns) {
  return {
    id: r.id,
    type: r.type,
    action: r.action,
    entityType: r.entity_type,
    entityId: r.entity_id,
    data: r.data,
    sync: r.sync,
    createdAt: new Date(r.created_at),
  };
}

export async function getEvent(db: Pool, id: string) {
  const { rows } = await db.query('SELECT * FROM events WHERE id = $1', [id]);
  if (!rows[0]) return undefined;
  return { ...toEvent(rows[0]), deliveries: (await deliveriesOf(db, [id], 'now')).get(id) ?? [] };
}

export interface EventFilter {
  type?: string;
  entityType?: string;
  entityId?: string;
}

/**
 * GET /v1/events: the latest events, newest first (created_at, then id: a publisher's ids do not
 * sort by time), each with its deliveries. The cursor is the last event id of a page; the page
 * after it starts below that event's (created_at, id), so an event published meanwhile is not
 * repeated. Indexes: events_created_id, events_entity_created (migration 015).
 */
export async function listEvents(db: Pool, f: EventFilter, limit: number, cursor?: string) {
  const { rows } = await db.query(
    `SELECT * FROM events e
      WHERE ($1::text IS NULL OR e.type = $1)
        AND ($2::text IS NULL OR e.entity_type = $2)
        AND ($3::text IS NULL OR e.entity_id = $3)
        AND ($4::text IS NULL OR (e.created_at, e.id) < (SELECT c.created_at, c.id FROM events c WHERE c.id = $4))
      ORDER BY e.created_at DESC, e.id DESC LIMIT $5`,
    [f.type ?? null, f.entityType ?? null, f.entityId ?? null, cursor ?? null, limit + 1],
  );
  const events = page(rows.map(toEvent), limit);
  const ids = events.data.map((e) => e.id);
  const { rows: deliveries } = ids.length
    ? await db.query(
        'SELECT id, webhook_id, application_id, event_type, status, event_id FROM deliveries WHERE event_id = ANY($1) ORDER BY id',
        [ids],
      )
    : { rows: [] as Record<string, string>[] };
  return {
    ...events,
    data: events.data.map((e) => ({
      ...e,
      deliveries: deliveries.filter((d) => d.event_id === e.id).map((d) => toFanOut(d.event_type)(d)),
    })),
  };
}

/** The catalog: every event type seen so far plus created/updated/deleted of every entity type. */
export async function listEventTypes(db: Pool): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT DISTINCT type FROM (
       SELECT DISTINCT type FROM events WHERE action IN ('created', 'updated', 'deleted')
       UNION ALL
       SELECT t || '.' || a FROM (SELECT DISTINCT type AS t FROM entities) e,
              unnest(ARRAY['created', 'updated', 'deleted']) AS a
     ) all_types ORDER BY type`,
  );
  return rows.map((r) => r.type);
}
