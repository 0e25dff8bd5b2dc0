import { type Pool, type PoolClient, prepared } from '../pool';

export type DeliveryStatus = 'pending' | 'held' | 'retrying' | 'succeeded' | 'failed' | 'cancelled';

/** Everything one attempt needs, loaded in one round trip. */
export interface DeliveryContext {
  deliveryId: string;
  deliveryStatus: DeliveryStatus;
  attemptCount: number;
  applicationId: string;
  event: {
    id: string;
    type: string;
    action: string;
    entityType: string;
    entityId: string;
    data: unknown;
    sync: unknown;
    createdAt: Date;
  };
  webhook: {
    id: string;
    url: string;
    method: 'POST' | 'GET';
    signature: 'standard-webhooks' | 'hmac-sha256';
    secrets: string[];
    headers: Record<string, string>;
    status: 'active' | 'paused' | 'disabled';
    deleted: boolean;
  };
}

/**
 * Loads everything one attempt needs and takes a share lock on the webhook row until the caller's
 * transaction ends. A pause or disable takes the row's update lock, so it waits for every sender
 * that saw "active" to commit (each commits once its request has started), and every sender
 * after it sees the new status.
 */
export async function lockDeliveryContext(
  client: PoolClient,
  deliveryId: string,
): Promise<DeliveryContext | undefined> {
  const { rows } = await client.query(
    prepared(
      'lock_delivery_context',
      `SELECT d.id, d.status, d.attempt_count, d.application_id,
              e.id AS event_id, e.type, e.action, e.entity_type, e.entity_id, e.data, e.sync, e.created_at,
              w.id AS webhook_id, w.url, w.method, w.signature, w.headers, w.status AS webhook_status,
              w.deleted_at IS NOT NULL AS deleted,
              array_remove(ARRAY[w.secret,
                CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END], NULL) AS secrets
         FROM deliveries d
         JOIN events e ON e.id = d.event_id
         JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.id = $1
          FOR SHARE OF w`,
      [deliveryId],
    ),
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    deliveryId: r.id,
    deliveryStatus: r.status,
    attemptCount: r.attempt_count,
    applicationId: r.application_id,
    event: {
      id: r.event_id,
      type: r.type,
      action: r.action,
      entityType: r.entity_type,
      entityId: r.entity_id,
      data: r.data,
      sync: r.sync,
      createdAt: r.created_at,
    },
    webhook: {
      id: r.webhook_id,
      url: r.url,
      method: r.method,
      signature: r.signature,
      secrets: r.secrets,
      headers: r.headers,
      status: r.webhook_status,
      deleted: r.deleted,
    },
  };
}

export async function setDeliveryStatus(
  db: Pool | PoolClient,
  deliveryId: string,
  status: DeliveryStatus,
  onlyFrom?: DeliveryStatus[],
): Promise<boolean> {
  const { rowCount } = await db.query(
    prepared(
      'set_delivery_status',
      `UPDATE deliveries SET status = $2, next_attempt_at = NULL, updated_at = now()
        WHERE id = $1 AND ($3::text[] IS NULL OR status = ANY($3))`,
      [deliveryId, status, onlyFrom ?? null],
    ),
  );
  return (rowCount ?? 0) > 0;
}

export interface AttemptRecord {
  id: string;
  deliveryId: string;
  webhookId: string;
  attemptNumber: number;
  startedAt: Date;
  durationMs: number;
  outcome: 'succeeded' | 'failed' | 'blocked';
  request: { url: string; method: string; headers: Record<string, string>; body: string };
  response?: { status: number; headers: Record<string, string>; body: string };
  error?: { kind: string; message: string };
}

/** Raised by a trigger (migration 004) when a delivery to start commits; workers LISTEN. */
export const DELIVERIES_TO_START_CHANNEL = 'herald_deliveries_to_start';

export interface DeliveryToStart {
  id: string;
  webhook_id: string;
  application_id: string;
  event_type: string;
}

/**
 * Claims up to `limit` deliveries whose workflow a worker may start now (pending ones, and held
 * ones a resume released), oldest first, for `leaseSeconds`: other workers skip them meanwhile,
 * and take them over once the lease runs out.
 */
export async function claimDeliveriesToStart(
  pool: Pool,
  limit: number,
  leaseSeconds: number,
): Promise<DeliveryToStart[]> {
  const { rows } = await pool.query(
    prepared(
      'claim_deliveries_to_start',
      `UPDATE deliveries d SET start_after = now() + make_interval(secs => $2)
         FROM (SELECT id FROM deliveries
                WHERE NOT workflow_started AND (status = 'pending' OR start_after IS NOT NULL)
                  AND (start_after IS NULL OR start_after <= now())
                ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) claimed
        WHERE d.id = claimed.id
        RETURNING d.id, d.webhook_id, d.application_id, d.event_type`,
      [limit, leaseSeconds],
    ),
  );
  // Ids sort by creation time; RETURNING keeps no order.
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * A release: held deliveries that have no workflow yet go to the workers' starter. They stay
 * `held` until their request starts (the send activity moves them), which paces the release.
 */
export async function releaseForStart(pool: Pool, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await pool.query(
    `UPDATE deliveries SET start_after = now() WHERE id = ANY($1) AND status = 'held' AND NOT workflow_started`,
    [ids],
  );
}

/** Notes that these deliveries' workflows exist (started now, or found started before). */
export async function markWorkflowsStarted(pool: Pool, ids: string[]): Promise<void> {
  await pool.query(
    prepared(
      'mark_workflows_started',
      'UPDATE deliveries SET workflow_started = true, start_after = NULL WHERE id = ANY($1)',
      [ids],
    ),
  );
}

export const ATTEMPTS_CHANNEL = 'herald_attempts';

/**
 * Records one attempt, moves the delivery to its new status, notes the webhook's last success and
 * tells API processes listening on ATTEMPTS_CHANNEL: one statement, one round trip.
 */
export async function recordAttempt(
  db: Pool | PoolClient,
  attempt: AttemptRecord,
  next: { status: DeliveryStatus; nextAttemptAt: Date | null },
  notice: Record<string, unknown>,
): Promise<void> {
  await db.query(
    prepared(
      'record_attempt',
      `WITH attempt AS (
         INSERT INTO attempts (id, delivery_id, webhook_id, attempt_number, started_at, duration_ms, outcome,
                               request_url, request_method, request_headers, request_body,
                               response_status, response_headers, response_body, error_kind, error_message)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
       ), delivery AS (
         UPDATE deliveries
            SET status = $17, attempt_count = attempt_count + 1,
                first_attempt_at = coalesce(first_attempt_at, $5), last_attempt_at = $5,
                next_attempt_at = $18, updated_at = now()
          WHERE id = $2 AND status NOT IN ('succeeded', 'cancelled')
       ), webhook AS (
         -- Rate-limited to one write a second so a busy webhook's row does not become a hot spot.
         UPDATE webhooks SET last_success_at = $5
          WHERE id = $3 AND $7 = 'succeeded'
            AND (last_success_at IS NULL OR last_success_at < $5::timestamptz - interval '1 second')
       )
       SELECT pg_notify('${ATTEMPTS_CHANNEL}', $19)`,
      [
        attempt.id,
        attempt.deliveryId,
        attempt.webhookId,
        attempt.attemptNumber,
        attempt.startedAt,
        attempt.durationMs,
        attempt.outcome,
        attempt.request.url,
        attempt.request.method,
        attempt.request.headers,
        attempt.request.body,
        attempt.response?.status ?? null,
        attempt.response?.headers ?? null,
        attempt.response?.body ?? null,
        attempt.error?.kind ?? null,
        attempt.error?.message ?? null,
        next.status,
        next.nextAttemptAt,
        JSON.stringify(notice),
      ],
    ),
  );
}

/**
 * Marks a delivery whose retries ran out as failed and, when its webhook has had no success
 * since the delivery's first attempt, disables the webhook. Returns whether it disabled it.
 */
export async function failDelivery(
  db: Pool | PoolClient,
  deliveryId: string,
  reason: string,
): Promise<boolean> {
  const { rows } = await db.query(
    `WITH failed AS (
       UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, updated_at = now()
        WHERE id = $1 AND status NOT IN ('succeeded', 'cancelled')
        RETURNING webhook_id, first_attempt_at
     )
     UPDATE webhooks w SET status = 'disabled', disabled_reason = $2, updated_at = now()
       FROM failed f
      WHERE w.id = f.webhook_id AND w.status = 'active'
        AND (w.last_success_at IS NULL OR w.last_success_at < f.first_attempt_at)
     RETURNING w.id`,
    [deliveryId, reason],
  );
  return rows.length > 0;
}

export async function disableWebhook(
  db: Pool | PoolClient,
  webhookId: string,
  reason: string,
): Promise<void> {
  await db.query(
    `UPDATE webhooks SET status = 'disabled', disabled_reason = $2, updated_at = now()
      WHERE id = $1 AND deleted_at IS NULL`,
    [webhookId, reason],
  );
}
