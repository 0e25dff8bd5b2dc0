import type { Pool, PoolClient } from '../pool';
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
  createdAt: Date;
  updatedAt: Date;
}

// The secret columns are never selected here: reads and lists cannot leak them.
const COLUMNS = `id, application_id, label, url, method, events, signature, sync_interval_ms, headers, status,
  disabled_reason, created_at, updated_at`;

function toWebhook(r: Record<string, any>): WebhookRow {
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
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function insertWebhook(
  db: Pool,
  w: Omit<WebhookRow, 'createdAt' | 'updatedAt' | 'disabledReason'> & { secret: string },
): Promise<WebhookRow> {
  const { rows } = await db.query(
    `INSERT INTO webhooks (id, application_id, label, url, method, events, signature, secret, sync_interval_ms, headers, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
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
}

export async function updateWebhook(db: Pool, id: string, p: WebhookPatch): Promise<WebhookRow | undefined> {
  const { rows } = await db.query(
    `UPDATE webhooks SET url = coalesce($2, url), label = coalesce($3, label), method = coalesce($4, method),
            events = coalesce($5, events), signature = coalesce($6, signature),
            sync_interval_ms = coalesce($7, sync_interval_ms), headers = coalesce($8, headers), updated_at = now()
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
    ],
  );
  return rows[0] ? toWebhook(rows[0]) : undefined;
}

/**
 * Moves a webhook to a status. The row lock this UPDATE takes waits for every sender holding the
 * share lock (see lockWebhookStatus), so once it returns no new request starts to a paused webhook.
 */
export async function setWebhookStatus(
  db: Pool,
  id: string,
  status: WebhookRow['status'],
  reason: string | null = null,
): Promise<WebhookRow | undefined> {
  const { rows } = await db.query(
    `UPDATE webhooks SET status = $2, disabled_reason = $3, updated_at = now()
      WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
    [id, status, reason],
  );
  return rows[0] ? toWebhook(rows[0]) : undefined;
}

/** Soft-deletes the webhook and cancels its unfinished deliveries; returns their ids. */
export async function deleteWebhook(db: PoolClient, id: string): Promise<string[]> {
  await db.query('UPDATE webhooks SET deleted_at = now(), updated_at = now() WHERE id = $1', [id]);
  const { rows } = await db.query(
    `UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = now()
      WHERE webhook_id = $1 AND status IN ('pending', 'held', 'retrying') RETURNING id`,
    [id],
  );
  return rows.map((r) => r.id);
}

/** The new secret signs from now on; the old one keeps signing beside it for `graceHours`. */
export async function rotateSecret(db: Pool, id: string, secret: string, graceHours = 24): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = now() + make_interval(hours => $3),
            secret = $2, updated_at = now()
      WHERE id = $1 AND deleted_at IS NULL`,
    [id, secret, graceHours],
  );
  return (rowCount ?? 0) > 0;
}
