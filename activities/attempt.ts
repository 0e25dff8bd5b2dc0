import type { Pool } from '../src/db/pool';
import {
  type AttemptRecord,
  attemptGate,
  type DeliveryContext,
  disableWebhook,
  failDelivery,
  type GateVerdict,
  type NextState,
  recordAttempt,
} from '../src/db/queries/deliveries';
import { parseRetryAfter, type RetrySettings, retryDelayMs } from '../src/delivery/backoff';
import { showBody } from '../src/delivery/body';
import { buildEnvelope, getRequestUrl, redactHeaders } from '../src/delivery/envelope';
import type { HttpSender, SendResult } from '../src/delivery/http-sender';
import { signatureHeaders } from '../src/delivery/signing';
import { newId } from '../src/ids';
import type { Logger } from '../src/logger';
import type { Metrics } from '../src/metrics';
import type { SecretCipher } from '../src/secret-cipher';
import { VERSION } from '../src/version';

export interface AttemptDeps {
  pool: Pool;
  sender: HttpSender;
  logger: Logger;
  metrics: Metrics;
  /** Decrypts the stored signing secrets the gate returns. */
  secretCipher: SecretCipher;
  requestTimeoutMs: number;
  retry: RetrySettings;
  now?: () => Date;
}

export interface AttemptInput {
  deliveryId: string;
  /** The calling workflow, which owns the delivery (docs/lifecycle.md); null skips the owner rules. */
  owner: string | null;
  maxAttempts: number | null;
  retry: RetrySettings;
  /** A hold keeps the caller's ownership (a sync waits for its webhook) instead of giving it up. */
  keepOnHold: boolean;
  /**
   * A failed attempt hands the delivery over to its own workflow, through the outbox (a sync's or
   * release's first attempt): the row is left to nobody, `retrying`, for the workers' starter.
   */
  handOverFailures?: boolean;
  /** Run Test: sent whatever the webhook's status; one attempt, whose id the API chose. */
  testAttemptId?: string;
}

export interface AttemptSummary {
  id: string;
  deliveryId: string;
  outcome: AttemptRecord['outcome'];
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  responseStatus: number | null;
  responseBody: string | null;
  responseBodyEncoding: 'utf8' | 'base64' | null;
  error: { kind: string; message: string } | null;
}

/** What one call did. Herald's own trouble is thrown instead (a PostgreSQL error, say). */
export type AttemptResult =
  | { kind: 'succeeded'; summary: AttemptSummary }
  /** The receiver's failure; `final` when no attempt is left. */
  | {
      kind: 'failed';
      summary: AttemptSummary;
      attemptNumber: number;
      nextRetryDelayMs: number;
      final: boolean;
      message: string;
    }
  /** 410 Gone: the webhook is disabled and the delivery held. */
  | { kind: 'gone'; summary: AttemptSummary }
  /** Not even a bare record of the attempt could be stored (a data error): the delivery is failed with the reason. */
  | { kind: 'unrecordable'; message: string }
  /**
   * It had ended before this run: an earlier run of the same activity sent (or failed) it, and its
   * worker was lost before Temporal heard. Nothing is sent again.
   */
  | { kind: 'ended'; status: 'succeeded' | 'failed'; attemptCount: number }
  /** The gate sent nothing (`handed-over`: a sync's or release's earlier attempt handed it over). */
  | {
      kind: 'stopped';
      verdict: Exclude<GateVerdict, 'send' | 'done'>;
      attemptCount: number;
      /** Until its next attempt is due (a failed one's backoff), or its reserved slot (`throttled`); null: unknown. */
      waitMs: number | null;
      webhookStatus: string | null;
    };

/**
 * One attempt of one delivery: the gate (status, owner, budget), the signed request, its record.
 * The gate's transaction lasts until the request has started (see attemptGate); the record is
 * one statement. Every caller (delivery, test, sync and release workflows' activities) goes
 * through here, so the rules of a send live in one place.
 */
export function createAttempter(deps: AttemptDeps) {
  const now = deps.now ?? (() => new Date());

  async function attempt(input: AttemptInput): Promise<AttemptResult> {
    const test = input.testAttemptId !== undefined;
    let requestStartedAt = now();
    const gate = await attemptGate(
      deps.pool,
      {
        deliveryId: input.deliveryId,
        owner: input.owner,
        maxAttempts: input.maxAttempts,
        test,
        keepOnHold: input.keepOnHold,
      },
      (ctx) => {
        const { body, ...request } = buildRequest(ctx, deps.secretCipher, Math.floor(now().getTime() / 1000));
        // The attempt's start is the request's, taken after the gate: a sync paces from it.
        requestStartedAt = now();
        const sent = deps.sender.send({
          ...request,
          body: request.method === 'POST' ? body : undefined,
          timeoutMs: deps.requestTimeoutMs,
        });
        return { url: request.url, headers: request.headers, body, sent };
      },
    );
    if (gate.verdict === 'done')
      return { kind: 'ended', status: gate.ended ?? 'succeeded', attemptCount: gate.attemptCount };
    if (gate.verdict !== 'send') {
      return {
        kind: 'stopped',
        verdict: gate.verdict,
        attemptCount: gate.attemptCount,
        waitMs: gate.nextAttemptAt ? Math.max(0, gate.nextAttemptAt.getTime() - now().getTime()) : null,
        webhookStatus: gate.webhookStatus,
      };
    }
    const { ctx } = gate;
    const { url, headers, body } = gate.started;
    const result = await gate.started.sent;

    const succeeded = result.ok && result.status >= 200 && result.status < 300;
    const outcome: AttemptRecord['outcome'] = succeeded
      ? 'succeeded'
      : !result.ok && result.kind === 'blocked'
        ? 'blocked'
        : 'failed';
    const record: AttemptRecord = {
      id: input.testAttemptId ?? newId('att'),
      deliveryId: ctx.deliveryId,
      webhookId: ctx.webhook.id,
      attemptNumber: ctx.attemptCount + 1,
      startedAt: requestStartedAt,
      durationMs: result.durationMs,
      outcome,
      request: { url, method: ctx.webhook.method, headers: redactHeaders(headers), body },
      response: result.ok ? { status: result.status, headers: result.headers, body: result.body } : undefined,
      error: result.ok ? undefined : { kind: result.kind, message: result.message },
    };
    const final = input.maxAttempts !== null && record.attemptNumber >= input.maxAttempts;
    const gone = result.ok && result.status === 410 && !test;
    const delayMs = nextDelayMs(input.retry, result, record.attemptNumber, requestStartedAt.getTime());
    const next: NextState = succeeded
      ? { status: 'succeeded', nextAttemptAt: null }
      : test
        ? { status: 'failed', nextAttemptAt: null }
        : gone
          ? { status: 'held', nextAttemptAt: null, owner: input.keepOnHold ? undefined : null }
          : {
              status: 'retrying',
              nextAttemptAt: final ? null : new Date(requestStartedAt.getTime() + delayMs),
              owner: input.handOverFailures ? null : undefined,
            };
    const recorded = await recordSafely(record, next, {
      webhookId: ctx.webhook.id,
      deliveryId: ctx.deliveryId,
      attemptId: record.id,
      workflowId: input.owner,
      eventId: ctx.event.id,
      eventType: ctx.event.type,
      outcome,
      deliveryStatus: next.status,
      responseStatus: record.response?.status ?? null,
      startedAt: requestStartedAt.toISOString(),
      durationMs: record.durationMs,
    });
    if (typeof recorded === 'string') return { kind: 'unrecordable', message: recorded };
    const attemptNumber = recorded;
    record.attemptNumber = attemptNumber;
    observe(record, ctx, succeeded && !test);

    const summary = summarize(record);
    if (succeeded) return { kind: 'succeeded', summary };
    if (gone) {
      // 410 Gone: the receiver says the endpoint is gone for good; stop sending to it at once.
      await disableWebhook(deps.pool, ctx.webhook.id, 'The endpoint answered 410 Gone.');
      return { kind: 'gone', summary };
    }
    return {
      kind: 'failed',
      summary,
      attemptNumber,
      nextRetryDelayMs: delayMs,
      final: final || (input.maxAttempts !== null && attemptNumber >= input.maxAttempts),
      message: record.error
        ? `${record.error.kind}: ${record.error.message}`
        : `HTTP ${record.response?.status}`,
    };
  }

  /**
   * Records the attempt; returns its number. Should one of its values be one PostgreSQL can never
   * store (SQLSTATE class 22), the attempt is recorded without the response and headers and with a
   * short error, so its outcome still stands. If even that fails, retrying cannot help: the
   * delivery is failed with the reason, which is returned instead.
   */
  async function recordSafely(
    record: AttemptRecord,
    next: NextState,
    notice: Record<string, unknown>,
  ): Promise<number | string> {
    try {
      return await recordAttempt(deps.pool, record, next, notice);
    } catch (err) {
      if (!isDataError(err)) throw err;
      deps.logger.warn(
        { deliveryId: record.deliveryId, err: err.message },
        'attempt recorded without its response',
      );
    }
    const bare: AttemptRecord = {
      ...record,
      request: { ...record.request, headers: {} },
      response: record.response && { status: record.response.status, headers: {}, body: Buffer.alloc(0) },
      error: record.error && { kind: record.error.kind, message: record.error.message.slice(0, 200) },
    };
    try {
      return await recordAttempt(deps.pool, bare, next, notice);
    } catch (err) {
      if (!isDataError(err)) throw err;
      const reason = `The attempt could not be recorded: ${err.message} (SQLSTATE ${err.code})`;
      await failDelivery(deps.pool, record.deliveryId, reason, null);
      return reason;
    }
  }

  /**
   * The wait before the next attempt: the policy's delay (with jitter) after this attempt, or the
   * receiver's Retry-After (429, 503) when that is longer; never beyond the maximum interval.
   */
  function nextDelayMs(
    retry: RetrySettings,
    result: SendResult,
    attemptNumber: number,
    nowMs: number,
  ): number {
    const policy = retryDelayMs(retry, attemptNumber);
    const retryAfter =
      result.ok && (result.status === 429 || result.status === 503)
        ? parseRetryAfter(result.headers['retry-after'], nowMs)
        : undefined;
    return Math.min(Math.max(policy, retryAfter ?? 0), retry.maxIntervalMs);
  }

  function observe(record: AttemptRecord, ctx: DeliveryContext, delivered: boolean): void {
    deps.metrics.attempts.inc({ outcome: record.outcome });
    deps.metrics.attemptDuration.observe(record.durationMs / 1000);
    if (delivered) {
      deps.metrics.deliveries.inc({ outcome: 'succeeded' });
      deps.metrics.endToEnd.observe((Date.now() - ctx.event.createdAt.getTime()) / 1000);
    }
    deps.logger.info(
      {
        deliveryId: record.deliveryId,
        webhookId: record.webhookId,
        attempt: record.attemptNumber,
        outcome: record.outcome,
        status: record.response?.status,
        error: record.error?.kind,
        ms: record.durationMs,
      },
      'attempt',
    );
  }

  /**
   * An attempt that waits out the webhook's throttle and strict order where it runs, heartbeating,
   * for at most `maxWaitMs` in all (a chunk activity: as long as it takes; a delivery workflow's
   * activity: a few seconds, since a timer in the workflow costs more than a precise sleep here,
   * and the activity's timeout bounds it), until it may send or `cancelled()` says stop; else the
   * throttled result is returned.
   */
  async function attemptWhenAllowed(
    input: AttemptInput,
    opts: { heartbeat: () => void; cancelled: () => boolean; maxWaitMs?: number },
  ): Promise<AttemptResult> {
    let waitedMs = 0;
    for (let backoffMs = 100; ; backoffMs = Math.min(backoffMs * 2, 2_000)) {
      const result = await attempt(input);
      if (!isNotYet(result)) return result;
      const wait = result.waitMs ?? backoffMs;
      if (opts.maxWaitMs !== undefined && waitedMs + wait > opts.maxWaitMs) return result;
      waitedMs += wait;
      for (let waitMs = wait; waitMs > 0; waitMs -= 1_000) {
        if (opts.cancelled()) return result;
        await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, 1_000)));
        opts.heartbeat();
      }
      if (opts.cancelled()) return result;
    }
  }

  return { attempt, attemptWhenAllowed };
}

/** A send the webhook's throttle or strict order holds back for now. */
export function isNotYet(result: AttemptResult): result is Extract<AttemptResult, { kind: 'stopped' }> {
  return result.kind === 'stopped' && (result.verdict === 'throttled' || result.verdict === 'out-of-turn');
}

export type Attempter = ReturnType<typeof createAttempter>;

/** SQLSTATE class 22 (data exception): a value that can never be stored, so never worth retrying. */
export function isDataError(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.length === 5 && code.startsWith('22');
}

/** The signed request for one attempt: the envelope, the webhook's headers and the signatures. */
function buildRequest(ctx: DeliveryContext, secretCipher: SecretCipher, timestamp: number) {
  const body = JSON.stringify(buildEnvelope(ctx.event));
  const headers: Record<string, string> = {
    ...ctx.webhook.headers,
    'user-agent': `Herald/${VERSION}`,
    ...(ctx.webhook.method === 'POST' ? { 'content-type': 'application/json' } : {}),
    ...signatureHeaders(
      ctx.webhook.signature,
      ctx.webhook.secrets.map((stored) => secretCipher.decrypt(stored)),
      ctx.event.id,
      timestamp,
      body,
    ),
  };
  const url = ctx.webhook.method === 'GET' ? getRequestUrl(ctx.webhook.url, body) : ctx.webhook.url;
  return { url, method: ctx.webhook.method, headers, body };
}

function summarize(a: AttemptRecord): AttemptSummary {
  // The first 2 KiB: of the text, or of the bytes when they are not UTF-8.
  const full = a.response ? showBody(a.response.body) : undefined;
  const shown =
    full?.bodyEncoding === 'utf8'
      ? { ...full, body: full.body.slice(0, 2048) }
      : a.response && showBody(a.response.body.subarray(0, 2048));
  return {
    id: a.id,
    deliveryId: a.deliveryId,
    outcome: a.outcome,
    attemptNumber: a.attemptNumber,
    startedAt: a.startedAt.toISOString(),
    durationMs: a.durationMs,
    responseStatus: a.response?.status ?? null,
    responseBody: shown?.body ?? null,
    responseBodyEncoding: shown?.bodyEncoding ?? null,
    error: a.error ?? null,
  };
}
