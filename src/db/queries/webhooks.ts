import { workflowIds } from '../../../workflows/shared';
import type { Pool, PoolClient } from '../pool';
import { enqueueWorkflow } from './outbox';
import { page } from './pagination';

export interface WebhookRow {
  id: string;
  applicationId: string;
  label: string;
  url: string;
  method: 'POST' | 'GET';
  events: string[];
  signature: 'standard-webhooks' | 'hmac-sha256';
  syncIntervalMs: number;
  headers: Record<string, string>;
  status: 'active' | 'paused' | 'disabled';
  disabledReason: string | null;
  maxRequestsPerSecond: number | null;
  maxInFlight: number | null;
  ordering: 'none' | 'strict';
  createdAt: Date;
  updatedAt: Date;
}

// The secret columns are never selected here: reads and lists cannot leak them.
const COLUMNS = `id, application_id, label, url, method, events, signature, sync_interval_ms, headers, status,
  disabled_reason, max_requests_per_second, max_in_flight, ordering, created_at, updated_at`;

/** A row of COLUMNS: the row's own fields, and the snake_case ones (numeric arrives as text). */
type WebhookColumns = Pick<
  WebhookRow,
  'id' | 'label' | 'url' | 'method' | 'events' | 'signature' | 'headers' | 'status' | 'ordering'
> & {
  application_id: string;
  sync_interval_ms: number;
  disabled_reason: string | null;
  max_requests_per_second: string | null;
  max_in_flight: number | null;
  created_at: Date;
  updated_at: Date;
};
function toWebhook(r: WebhookColumns): WebhookRow {
  return {
    id: r.id,
    applicationId: r.application_id,
    label: r.label,
    url: r.url,
    method: r.method,
    events: r.events,
    signature: r.signature,
    syncIntervalMs: r.sync_interval_ms,
    headers: r.headers,
    status: r.status,
    disabledReason: r.disabled_reason,
    maxRequestsPerSecond: r.max_requests_per_second === null ? null : Number(r.max_requests_per_second),
    maxInFlight: r.max_in_flight,
    ordering: r.ordering,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function insertWebhook(
  db: Pool,
  /** `secret`: encrypted (src/secret-cipher.ts). */
  w: Omit<WebhookRow, 'createdAt' | 'updatedAt' | 'disabledReason'> & { secret: string },
): Promise<WebhookRow> {
  const { rows } = await db.query(
    `INSERT INTO webhooks (id, application_id, label, url, method, events, signature, secret, sync_interval_ms, headers,
                           status, max_requests_per_second, max_in_flight, ordering)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING ${COLUMNS}`,
    [
      w.id,
      w.applicationId,
      w.label,
      w.url,
      w.method,
      w.events,
      w.signature,
      w.secret,
      w.syncIntervalMs,
      w.headers,
      w.status,
      w.maxRequestsPerSecond,
      w.maxInFlight,
      w.ordering,
    ],
  );
  return toWebhook(rows[0]);
}

export async function getWebhook(db: Pool | PoolClient, id: string): Promise<WebhookRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM webhooks WHERE id = $1 AND deleted_at IS NULL`, [
    id,
  ]);
  return rows[0] ? toWebhook(rows[0]) : undefined;
}

export async function listWebhooks(
  db: Pool,
  applicationId: string | undefined,
  limit: number,
  cursor?: string,
) {
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM webhooks
      WHERE deleted_at IS NULL AND ($1::text IS NULL OR application_id = $1) AND ($2::text IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3`,
    [applicationId ?? null, cursor ?? null, limit + 1],
  );
  return page(rows.map(toWebhook), limit);
}

export interface WebhookPatch {
  url?: string;
  label?: string;
  method?: 'POST' | 'GET';
  events?: string[];
  signature?: 'standard-webhooks' | 'hmac-sha256';
  syncIntervalMs?: number;
  headers?: Record<string, string>;
  /** null clears it (the application default applies); undefined leaves it. */
  maxRequestsPerSecond?: number | null;
  maxInFlight?: number | null;
  ordering?: 'none' | 'strict';
}

export async function updateWebhook(db: Pool, id: string, p: WebhookPatch): Promise<WebhookRow | undefined> {
  const { rows } = await db.query(
    `UPDATE webhooks SET url = coalesce($2, url), label = coalesce($3, label), method = coalesce($4, method),
            events = coalesce($5, events), signature = coalesce($6, signature),
            sync_interval_ms = coalesce($7, sync_interval_ms), headers = coalesce($8, headers),
            max_requests_per_second = CASE WHEN $9 THEN $10 ELSE max_requests_per_second END,
            max_in_flight = CASE WHEN $11 THEN $12 ELSE max_in_flight END, ordering = coalesce($13, ordering),
            updated_at = now()
      WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
    [
      id,
      p.url ?? null,
      p.label ?? null,
      p.method ?? null,
      p.events ?? null,
      p.signature ?? null,
      p.syncIntervalMs ?? null,
      p.headers ?? null,
      p.maxRequestsPerSecond !== undefined,
      p.maxRequestsPerSecond ?? null,
      p.maxInFlight !== undefined,
      p.maxInFlight ?? null,
      p.ordering ?? null,
    ],
  );
  return rows[0] ? toWebhook(rows[0]) : undefined;
}

/**
 * Pauses a webhook. The row lock this UPDATE takes waits for every sender holding the attempt
 * gate's share lock (herald_attempt_gate), so once it returns no new request starts to it.
 */
export async function pauseWebhook(db: Pool, id: string): Promise<WebhookRow | undefined> {
  const { rows } = await db.query(
    `UPDATE webhooks SET status = 'paused', disabled_reason = NULL, updated_at = now()
      WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
    [id],
  );
  return rows[0] ? toWebhook(rows[0]) : undefined;
}

/**
 * Resumes (or reactivates) a webhook and, in the same commit, asks for its release workflow
 * (`release:<id>`, workflows/release.ts), which sends what was held oldest first and wakes a
 * waiting sync. The fan-out's share lock on the row (herald_fan_out) makes publishes in flight
 * finish first, so every delivery held before this commit is there when the release looks.
 */
export async function resumeWebhook(db: PoolClient, id: string): Promise<WebhookRow | undefined> {
  const { rows } = await db.query(
    `UPDATE webhooks SET status = 'active', disabled_reason = NULL, updated_at = now()
      WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
    [id],
  );
  const webhook = rows[0] ? toWebhook(rows[0]) : undefined;
  if (webhook) {
    await enqueueWorkflow(db, 'release', workflowIds.release(webhook.id), {
      webhookId: webhook.id,
      applicationId: webhook.applicationId,
    });
  }
  return webhook;
}

/**
 * Soft-deletes the webhook and cancels its unfinished deliveries, webhook row first (the order
 * every writer of both keeps). A workflow waiting to retry one finds it cancelled at its next
 * attempt and ends; a sync finds its webhook gone and ends cancelled.
 */
export async function deleteWebhook(db: PoolClient, id: string): Promise<void> {
  await db.query('UPDATE webhooks SET deleted_at = now(), updated_at = now() WHERE id = $1', [id]);
  await db.query(
    `UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = now()
      WHERE webhook_id = $1 AND status IN ('pending', 'held', 'sending', 'retrying')`,
    [id],
  );
}

/** The new secret (encrypted) signs from now on; the old one keeps signing beside it for `graceHours`. */
export async function rotateSecret(db: Pool, id: string, secret: string, graceHours = 24): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = now() + make_interval(hours => $3),
            secret = $2, updated_at = now()
      WHERE id = $1 AND deleted_at IS NULL`,
    [id, secret, graceHours],
  );
  return (rowCount ?? 0) > 0;
}
