import type pg from 'pg';
import { onTransactionClient, type Pool, type PoolClient, prepared } from '../pool';

/** docs/lifecycle.md draws these and names the one writer of each transition. */
export type DeliveryStatus =
  | 'pending'
  | 'held'
  | 'sending'
  | 'retrying'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

/** What the attempt gate (herald_begin_attempt, migration 006) decided. */
export type GateVerdict =
  | 'send'
  | 'done'
  | 'cancelled'
  | 'missing'
  | 'inactive'
  | 'exhausted'
  | 'handed-over'
  | 'not-owner'
  | 'out-of-turn'
  | 'throttled';

/** Everything one attempt needs, loaded by the gate. */
export interface DeliveryContext {
  deliveryId: string;
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
    /** As stored: ciphertext, the current secret first (the attempter decrypts them). */
    secrets: string[];
    headers: Record<string, string>;
    status: 'active' | 'paused' | 'disabled';
  };
}

/** The gate sent nothing: why, and what its caller needs to wait or stop. */
export interface GateStop {
  verdict: Exclude<GateVerdict, 'send'>;
  attemptCount: number;
  /** Its next attempt's time; for `throttled`, its reserved slot (none: the in-flight limit). */
  nextAttemptAt: Date | null;
  webhookStatus: string | null;
  /** For `done`: how the delivery ended (a run repeated after a lost worker finds it so). */
  ended?: 'succeeded' | 'failed';
}

/** What the attempt gate is asked. */
export interface GateInput {
  deliveryId: string;
  owner: string | null;
  maxAttempts: number | null;
  test: boolean;
  keepOnHold: boolean;
}

/**
 * The attempt gate (herald_attempt_gate, migration 018) and its transaction: decides whether this
 * caller may send the delivery now and, if so, marks it `sending`, loads its context and calls
 * `start` with it, which must start the request (and return at once). The transaction commits
 * after that: the share lock the gate takes on the webhook row lasts until then, so a pause or
 * disable waits for every sender that saw "active", and every sender after it sees the new status.
 * For a webhook with a rate, the commit also stamps its last send with the time the request
 * started, so the next send's gap counts from there.
 *
 * Two round trips in all: BEGIN goes with the gate, and the stamp with the COMMIT, as simple-protocol
 * queries with their values quoted by the driver (node-postgres sends one query at a time, and a
 * query with parameters cannot share its message with another statement).
 */
export function attemptGate<T>(
  pool: Pool,
  input: GateInput,
  start: (ctx: DeliveryContext) => T,
): Promise<GateStop | { verdict: 'send'; ctx: DeliveryContext; started: T }> {
  return onTransactionClient(pool, async (client) => {
    const q = (v: string | null) => (v === null ? 'NULL' : client.escapeLiteral(v));
    const maxAttempts = input.maxAttempts === null ? 'NULL' : String(Math.trunc(input.maxAttempts));
    const [, gate] = (await client.query(
      `BEGIN; SELECT * FROM herald_attempt_gate(${q(input.deliveryId)}, ${q(input.owner)}, ${maxAttempts}::int, ${input.test}, ${input.keepOnHold})`,
    )) as unknown as pg.QueryResult[];
    const result = gateResult(input.deliveryId, gate.rows[0]);
    if (result.verdict === 'done') {
      // Read with the COMMIT, in its message: the gate's `done` does not say which way it ended.
      const [ended] = (await client.query(
        `SELECT status FROM deliveries WHERE id = ${q(input.deliveryId)}; COMMIT`,
      )) as unknown as pg.QueryResult[];
      return { ...result, ended: ended.rows[0]?.status === 'failed' ? 'failed' : 'succeeded' };
    }
    if (result.verdict !== 'send') {
      await client.query('COMMIT');
      return result;
    }
    const started = start(result.ctx);
    await client.query(
      gate.rows[0].paced
        ? `UPDATE webhook_throttles SET last_sent_at = clock_timestamp() WHERE webhook_id = ${q(result.ctx.webhook.id)}; COMMIT`
        : 'COMMIT',
    );
    return { ...result, started };
  });
}

// biome-ignore lint/suspicious/noExplicitAny: a row of herald_attempt_gate's columns
function gateResult(deliveryId: string, r: any): GateStop | { verdict: 'send'; ctx: DeliveryContext } {
  if (r.verdict !== 'send') {
    return {
      verdict: r.verdict,
      attemptCount: r.attempt_count,
      nextAttemptAt: r.next_attempt_at,
      webhookStatus: r.webhook_status,
    };
  }
  return {
    verdict: 'send',
    ctx: {
      deliveryId,
      attemptCount: r.attempt_count,
      applicationId: r.application_id,
      event: {
        id: r.event_id,
        type: r.event_type,
        action: r.action,
        entityType: r.entity_type,
        entityId: r.entity_id,
        data: r.data,
        sync: r.sync,
        createdAt: r.event_created_at,
      },
      webhook: {
        id: r.webhook_id,
        url: r.url,
        method: r.method,
        signature: r.signature,
        secrets: r.secrets,
        headers: r.headers,
        status: r.webhook_status,
      },
    },
  };
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
  /** The body as the bytes the receiver sent. */
  response?: { status: number; headers: Record<string, string>; body: Buffer };
  error?: { kind: string; message: string };
}

/** Raised by triggers (migration 006) when a delivery to start or an outbox entry commits; workers LISTEN. */
export const WORKFLOWS_TO_START_CHANNEL = 'herald_workflows_to_start';

export interface DeliveryToStart {
  id: string;
  webhookId: string;
  applicationId: string;
  eventType: string;
  /** Its webhook's ordering is strict: the webhook's release sends it, in turn. */
  strict: boolean;
  /** A handed-over delivery (a sync's or release's attempt failed): where its workflow goes on. */
  handedOver?: { attemptsMade: number; retryDelayMs: number; lastError: string };
}

/**
 * Claims up to `limit` deliveries nobody owns that wait for their workflow, oldest first, for
 * `leaseSeconds`: new ones (`pending`) and ones a sync or release handed over (`retrying`, with
 * the attempts made, the time of the next and the last error). Other workers skip them meanwhile,
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
                WHERE workflow_id IS NULL AND status IN ('pending', 'retrying')
                  AND (start_after IS NULL OR start_after <= now())
                ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) claimed, webhooks w
        WHERE d.id = claimed.id AND w.id = d.webhook_id
        RETURNING d.id, d.webhook_id, d.application_id, d.event_type, d.status, d.attempt_count,
                  w.ordering = 'strict' AS strict,
                  greatest(0, extract(epoch FROM d.next_attempt_at - now()) * 1000)::int AS retry_delay_ms,
                  CASE WHEN d.status = 'retrying' THEN
                    (SELECT coalesce(a.error_kind || ': ' || a.error_message, 'HTTP ' || a.response_status)
                       FROM attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) END AS last_error`,
      [limit, leaseSeconds],
    ),
  );
  return (
    rows
      .map((r) => ({
        id: r.id,
        webhookId: r.webhook_id,
        applicationId: r.application_id,
        eventType: r.event_type,
        strict: r.strict,
        ...(r.status === 'retrying'
          ? {
              handedOver: {
                attemptsMade: r.attempt_count,
                retryDelayMs: r.retry_delay_ms ?? 0,
                lastError: r.last_error ?? 'the last attempt failed',
              },
            }
          : {}),
      }))
      // Ids sort by creation time; RETURNING keeps no order.
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  );
}

/** Deliveries to strictly ordered webhooks, handed to each webhook's release: it owns them from now on. */
export async function handToReleases(pool: Pool, ids: string[]): Promise<void> {
  await pool.query(
    `UPDATE deliveries SET workflow_id = 'release:' || webhook_id, start_after = NULL
      WHERE id = ANY($1) AND workflow_id IS NULL AND status IN ('pending', 'retrying')`,
    [ids],
  );
}

/**
 * These deliveries' workflows exist (started now, or found started before): each is owned by its
 * `delivery:<id>` workflow from now on. One whose workflow already held it (its webhook was
 * paused) is left alone.
 */
export async function markWorkflowsStarted(pool: Pool, ids: string[]): Promise<void> {
  await pool.query(
    prepared(
      'mark_workflows_started',
      `UPDATE deliveries SET workflow_id = 'delivery:' || id, start_after = NULL
        WHERE id = ANY($1) AND workflow_id IS NULL AND status IN ('pending', 'retrying')`,
      [ids],
    ),
  );
}

export const ATTEMPTS_CHANNEL = 'herald_attempts';

export interface NextState {
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  /** The owner after this attempt; undefined keeps it. */
  owner?: string | null;
}

/**
 * Records one attempt, moves the delivery to its new status, notes the webhook's last success and
 * tells API processes listening on ATTEMPTS_CHANNEL: one statement, one round trip. Returns the
 * attempt's number (the delivery's attempts so far, this one included).
 */
export async function recordAttempt(
  db: Pool | PoolClient,
  attempt: AttemptRecord,
  next: NextState,
  notice: Record<string, unknown>,
): Promise<number> {
  const { rows } = await db.query(
    prepared(
      'record_attempt',
      `WITH delivery AS (
         UPDATE deliveries
            SET status = $17, attempt_count = attempt_count + 1,
                first_attempt_at = coalesce(first_attempt_at, $5), last_attempt_at = $5,
                next_attempt_at = $18, updated_at = now(),
                workflow_id = CASE WHEN $20 THEN $21 ELSE workflow_id END
          WHERE id = $2 AND status NOT IN ('succeeded', 'failed', 'cancelled')
          RETURNING attempt_count
       ), attempt AS (
         INSERT INTO attempts (id, delivery_id, webhook_id, attempt_number, started_at, duration_ms, outcome,
                               request_url, request_method, request_headers, request_body,
                               response_status, response_headers, response_body, error_kind, error_message)
         VALUES ($1, $2, $3, coalesce((SELECT attempt_count FROM delivery), $4), $5, $6, $7, $8, $9, $10, $11,
                 $12, $13, $14, $15, $16)
         RETURNING attempt_number
       ), webhook AS (
         -- At most one write a second, so a busy webhook's row does not become a hot spot.
         UPDATE webhook_successes SET last_success_at = $5
          WHERE webhook_id = $3 AND $7 = 'succeeded'
            AND (last_success_at IS NULL OR last_success_at < $5::timestamptz - interval '1 second')
       )
       SELECT (SELECT attempt_number FROM attempt) AS attempt_number,
              pg_notify('${ATTEMPTS_CHANNEL}',
                ($19::jsonb || jsonb_build_object('attemptNumber', (SELECT attempt_number FROM attempt)))::text)`,
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
        next.owner !== undefined,
        next.owner ?? null,
      ],
    ),
  );
  return rows[0].attempt_number;
}

/**
 * Marks a delivery failed with its reason (herald_fail_delivery, migration 006). With a
 * `disableReason` (the receiver's failure), the webhook is disabled too when it had no success
 * since the delivery's first attempt. Returns whether it disabled the webhook.
 */
export async function failDelivery(
  db: Pool | PoolClient,
  deliveryId: string,
  reason: string,
  disableReason: string | null,
): Promise<boolean> {
  const { rows } = await db.query('SELECT herald_fail_delivery($1, $2, $3) AS disabled', [
    deliveryId,
    reason,
    disableReason,
  ]);
  return rows[0].disabled;
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

/**
 * The next deliveries of a webhook that its release sends, oldest first: held ones nobody owns;
 * the release's own that a lost attempt left `sending`; for a strict webhook, the new ones
 * (`pending`, nobody's yet or handed to the release by the workers' starter) and a failed one
 * whose workflow the release was to wait for (`awaiting`, with where that workflow goes on); and
 * held ones whose workflow from before releases waits for a resume signal (`legacy`). `strict`:
 * the webhook's ordering.
 */
export async function heldDeliveries(
  pool: Pool,
  webhookId: string,
  owner: string,
  after: string,
  limit: number,
): Promise<{
  strict: boolean;
  rows: { id: string; legacy: boolean; awaiting?: DeliveryContinuationRow }[];
}> {
  const { rows } = await pool.query(
    prepared(
      'held_deliveries',
      `SELECT d.id, d.status, d.workflow_id IS NOT NULL AND d.workflow_id <> $2 AS legacy, d.attempt_count,
              greatest(0, extract(epoch FROM d.next_attempt_at - now()) * 1000)::int AS retry_delay_ms,
              w.ordering
         FROM webhooks w LEFT JOIN deliveries d ON d.webhook_id = w.id AND d.id > $3
          AND ((d.status = 'held' AND (d.workflow_id IS NULL OR d.workflow_id = $2 OR d.workflow_id = 'delivery:' || d.id))
               OR (d.status IN ('sending', 'pending', 'retrying') AND d.workflow_id = $2)
               OR (d.status = 'pending' AND d.workflow_id IS NULL AND w.ordering = 'strict'))
        WHERE w.id = $1
        ORDER BY d.id LIMIT $4`,
      [webhookId, owner, after, limit],
    ),
  );
  return {
    strict: rows[0]?.ordering === 'strict',
    rows: rows
      .filter((r) => r.id !== null)
      .map((r) => ({
        id: r.id,
        legacy: r.legacy,
        ...(r.status === 'retrying'
          ? { awaiting: { attemptsMade: r.attempt_count, retryDelayMs: r.retry_delay_ms ?? 0 } }
          : {}),
      })),
  };
}

/** Where a delivery's workflow goes on from a failed attempt, as its row says. */
export interface DeliveryContinuationRow {
  attemptsMade: number;
  retryDelayMs: number;
}

/**
 * A release that stops because its webhook is paused or disabled again: what it had been handed
 * to send in strict order is held, like every other delivery to an inactive webhook.
 */
export async function holdReleased(pool: Pool, webhookId: string, owner: string): Promise<void> {
  await pool.query(
    `UPDATE deliveries SET status = 'held', workflow_id = NULL, updated_at = now()
      WHERE webhook_id = $1 AND workflow_id = $2 AND status = 'pending'`,
    [webhookId, owner],
  );
}

/** Whether a delivery has ended (or is held again): what a strict release waits for. */
export async function deliveryEnded(pool: Pool, id: string): Promise<boolean> {
  const { rows } = await pool.query(
    `SELECT status IN ('succeeded', 'failed', 'cancelled', 'held') AS ended FROM deliveries WHERE id = $1`,
    [id],
  );
  return rows[0]?.ended ?? true;
}

/** Held deliveries whose waiting workflow is gone (from before releases): nobody owns them now. */
export async function adoptHeld(pool: Pool, ids: string[]): Promise<void> {
  await pool.query(
    `UPDATE deliveries SET workflow_id = NULL WHERE id = ANY($1) AND status = 'held' AND workflow_id = 'delivery:' || id`,
    [ids],
  );
}

/** A cancelled sync: its deliveries not yet sent (still its own) end as cancelled. */
export async function cancelUnsentSyncDeliveries(pool: Pool, syncId: string): Promise<number> {
  const { rowCount } = await pool.query(
    `UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = now()
      WHERE sync_id = $1 AND workflow_id = 'sync:' || $1 AND status IN ('pending', 'held', 'sending')`,
    [syncId],
  );
  return rowCount ?? 0;
}
