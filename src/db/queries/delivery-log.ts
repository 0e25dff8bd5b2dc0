import { showBody } from '../../delivery/body';
import type { Pool } from '../pool';
import { toEvent } from './events';
import { page } from './pagination';

/** Reads for the delivery log: lists, one delivery with its attempts. */

const DELIVERY_COLUMNS = `d.id, d.webhook_id, d.event_id, d.event_type, d.status, d.attempt_count, d.next_attempt_at,
  d.failure_reason, d.workflow_id, d.created_at, d.updated_at, d.application_id,
  last.outcome AS last_outcome, last.response_status AS last_response_status, last.duration_ms AS last_duration_ms,
  last.started_at AS last_started_at`;
/** A delivery with its latest attempt (one index probe of attempts_delivery per row). */
const DELIVERIES = `deliveries d LEFT JOIN LATERAL (
  SELECT a.outcome, a.response_status, a.duration_ms, a.started_at FROM attempts a
   WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) last ON true`;

/** A row of DELIVERY_COLUMNS. */
type DeliveryColumns = {
  id: string;
  webhook_id: string;
  application_id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempt_count: number;
  next_attempt_at: Date | null;
  failure_reason: string | null;
  workflow_id: string | null;
  created_at: Date;
  updated_at: Date;
} & (
  | {
      last_outcome: string;
      last_response_status: number | null;
      last_duration_ms: number;
      last_started_at: Date;
    }
  // No attempt yet.
  | { last_outcome: null; last_response_status: null; last_duration_ms: null; last_started_at: null }
);

function toDelivery(r: DeliveryColumns) {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    applicationId: r.application_id,
    eventId: r.event_id,
    eventType: r.event_type,
    status: r.status,
    attemptCount: r.attempt_count,
    nextAttemptAt: r.next_attempt_at?.toISOString() ?? null,
    failureReason: r.failure_reason,
    /** The workflow that owns it (docs/lifecycle.md); null while nobody does (pending or held). */
    workflowId: r.workflow_id,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    lastAttempt:
      r.last_outcome === null
        ? null
        : {
            outcome: r.last_outcome,
            responseStatus: r.last_response_status,
            durationMs: r.last_duration_ms,
            startedAt: r.last_started_at.toISOString(),
          },
  };
}
export type DeliveryView = ReturnType<typeof toDelivery>;

export async function listDeliveries(
  db: Pool,
  webhookId: string,
  q: { status?: string; limit: number; cursor?: string },
) {
  const { rows } = await db.query(
    `SELECT ${DELIVERY_COLUMNS} FROM ${DELIVERIES}
      WHERE d.webhook_id = $1 AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR d.id < $3)
      ORDER BY d.id DESC LIMIT $4`,
    [webhookId, q.status ?? null, q.cursor ?? null, q.limit + 1],
  );
  return page(rows.map(toDelivery), q.limit);
}

export async function getDelivery(db: Pool, id: string): Promise<DeliveryView | undefined> {
  const { rows } = await db.query(`SELECT ${DELIVERY_COLUMNS} FROM ${DELIVERIES} WHERE d.id = $1`, [id]);
  return rows[0] ? toDelivery(rows[0]) : undefined;
}

export async function getDeliveryWithAttempts(db: Pool, id: string) {
  const { rows } = await db.query(
    `SELECT ${DELIVERY_COLUMNS}, to_jsonb(e) AS event FROM ${DELIVERIES} JOIN events e ON e.id = d.event_id WHERE d.id = $1`,
    [id],
  );
  const r = rows[0];
  if (!r) return undefined;
  const attempts = await db.query(
    `SELECT id, delivery_id, attempt_number, started_at, duration_ms, outcome, request_url, request_method,
            request_headers, request_body, response_status, response_headers, response_body, error_kind, error_message
       FROM attempts WHERE delivery_id = $1 ORDER BY id`,
    [id],
  );
  return {
    ...toDelivery(r),
    event: toEvent(r.event),
    attempts: attempts.rows.map((a) => ({
      id: a.id,
      deliveryId: a.delivery_id,
      attemptNumber: a.attempt_number,
      startedAt: (a.started_at as Date).toISOString(),
      durationMs: a.duration_ms,
      outcome: a.outcome,
      request: {
        url: a.request_url,
        method: a.request_method,
        headers: a.request_headers,
        body: a.request_body,
      },
      response:
        a.response_status === null
          ? null
          : {
              status: a.response_status,
              headers: a.response_headers,
              ...showBody(a.response_body ?? Buffer.alloc(0)),
            },
      error: a.error_kind ? { kind: a.error_kind, message: a.error_message } : null,
    })),
  };
}

/**
 * A redelivery: a new delivery row of the same event to the same webhook, pending or (webhook
 * not active) held. The share lock on the webhook row orders it with a resume, as the fan-out's does.
 */
export async function insertRedelivery(db: Pool, newId: string, of: { id: string }) {
  const { rows } = await db.query(
    `INSERT INTO deliveries (id, event_id, webhook_id, application_id, event_type, status)
     SELECT $1, d.event_id, d.webhook_id, d.application_id, d.event_type,
            CASE WHEN w.status = 'active' THEN 'pending' ELSE 'held' END
       FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
      WHERE d.id = $2 AND w.deleted_at IS NULL
        FOR SHARE OF w
     RETURNING id`,
    [newId, of.id],
  );
  return rows[0] as { id: string } | undefined;
}
