import { newId } from '../../ids';
import { type Pool, type PoolClient, prepared } from '../pool';

export interface NewEvent {
  id?: string;
  type: string;
  entityType: string;
  entityId: string;
  data?: Record<string, unknown>;
  scopes?: string[];
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
  duplicate: boolean;
}

/**
 * Writes one event and its fan-out deliveries in the caller's transaction. The deliveries go to
 * every live webhook whose application may see the entity (type and scope) and whose filter
 * selects the event type; a webhook that is not active gets its delivery `held`.
 * A repeated event id returns the first result and writes nothing.
 */
export async function insertEventWithDeliveries(
  db: PoolClient,
  e: NewEvent & {
    data: Record<string, unknown>;
    scopes: string[];
    action: string;
    sync?: unknown;
    /** Tests and syncs: one delivery to one webhook, whose workflow the caller runs itself. */
    target?: { webhookId: string; applicationId: string; deliveryId: string };
  },
): Promise<PublishResult> {
  const id = e.id ?? newId('evt');
  const inserted = await db.query(
    prepared(
      'insert_event',
      `INSERT INTO events (id, type, action, entity_type, entity_id, data, scopes, sync)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [id, e.type, e.action, e.entityType, e.entityId, e.data, e.scopes, e.sync ?? null],
    ),
  );
  if (inserted.rowCount === 0) {
    return { id, deliveries: await deliveriesOfEvent(db, id), duplicate: true };
  }
  if (e.target) {
    await db.query(
      `INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status, workflow_started)
       VALUES ($1, $2, $3, $4, $5, 'pending', true)`,
      [e.target.deliveryId, id, e.target.webhookId, e.target.applicationId, e.type],
    );
    const { webhookId, applicationId, deliveryId } = e.target;
    return {
      id,
      deliveries: [{ id: deliveryId, webhookId, applicationId, eventType: e.type, status: 'pending' }],
      duplicate: false,
    };
  }
  const [, action] = e.type.split('.');
  const { rows: targets } = await db.query(
    prepared(
      'fan_out_targets',
      `SELECT w.id, w.application_id, w.status FROM webhooks w JOIN applications a ON a.id = w.application_id
        WHERE w.deleted_at IS NULL
          AND ('*' = ANY(a.entity_types) OR $1 = ANY(a.entity_types))
          AND ('*' = ANY(a.scopes) OR a.scopes && $2::text[])
          AND (cardinality(w.events) = 0 OR w.events && $3::text[])`,
      [e.entityType, e.scopes, [e.type, `${e.entityType}.*`, `*.${action}`, '*']],
    ),
  );
  const deliveries: FanOutDelivery[] = targets.map((t) => ({
    id: newId('dlv'),
    webhookId: t.id,
    applicationId: t.application_id,
    eventType: e.type,
    status: t.status === 'active' ? 'pending' : 'held',
  }));
  if (deliveries.length > 0) {
    await db.query(
      prepared(
        'insert_fan_out',
        `INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status)
         SELECT d.id, $1, d.webhook_id, d.application_id, $2, d.status
           FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS d(id, webhook_id, application_id, status)`,
        [
          id,
          e.type,
          deliveries.map((d) => d.id),
          deliveries.map((d) => d.webhookId),
          deliveries.map((d) => d.applicationId),
          deliveries.map((d) => d.status),
        ],
      ),
    );
  }
  return { id, deliveries, duplicate: false };
}

async function deliveriesOfEvent(db: Pool | PoolClient, eventId: string): Promise<FanOutDelivery[]> {
  const { rows } = await db.query(
    'SELECT id, webhook_id, application_id, event_type, status FROM deliveries WHERE event_id = $1 ORDER BY id',
    [eventId],
  );
  return rows.map((r) => ({
    id: r.id,
    webhookId: r.webhook_id,
    applicationId: r.application_id,
    eventType: r.event_type,
    status: r.status,
  }));
}

/** An events row (or its `to_jsonb`, where created_at is a string) as the envelope builder takes it. */
export function toEvent(r: Record<string, any>) {
  return {
    id: r.id as string,
    type: r.type as string,
    action: r.action as string,
    entityType: r.entity_type as string,
    entityId: r.entity_id as string,
    data: r.data as unknown,
    sync: r.sync as unknown,
    createdAt: new Date(r.created_at),
  };
}

export async function getEvent(db: Pool, id: string) {
  const { rows } = await db.query('SELECT * FROM events WHERE id = $1', [id]);
  if (!rows[0]) return undefined;
  return { ...toEvent(rows[0]), deliveries: await deliveriesOfEvent(db, id) };
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
