import { ApplicationFailure, Context } from '@temporalio/activity';
import { inTransaction, type Pool } from '../src/db/pool';
import {
  type AttemptRecord,
  type DeliveryContext,
  disableWebhook,
  failDelivery,
  lockDeliveryContext,
  recordAttempt,
  setDeliveryStatus,
} from '../src/db/queries/deliveries';
import { parseRetryAfter, type RetrySettings, retryDelayMs } from '../src/delivery/backoff';
import { buildEnvelope, getRequestUrl, redactHeaders } from '../src/delivery/envelope';
import type { HttpSender, SendResult } from '../src/delivery/http-sender';
import { signatureHeaders } from '../src/delivery/signing';
import { newId } from '../src/ids';
import type { Logger } from '../src/logger';
import type { Metrics } from '../src/metrics';
import { VERSION } from '../src/version';
import { FailureTypes } from '../workflows/shared';

export interface DeliveryActivityDeps {
  pool: Pool;
  sender: HttpSender;
  logger: Logger;
  metrics: Metrics;
  requestTimeoutMs: number;
  retry: RetrySettings;
  now?: () => Date;
}

export interface SendInput {
  deliveryId: string;
  /** Run Test: one attempt, sent even while the webhook is paused, answered rather than thrown. */
  test?: { attemptId: string };
  /** Attempts made before this activity's first (the delivery workflow's local first attempt). */
  attemptOffset?: number;
}

/** What became of one delivery of a sync chunk. */
export type SyncOutcome = 'sent' | 'failed' | 'inactive' | 'cancelled' | 'unsent';

export interface AttemptSummary {
  id: string;
  deliveryId: string;
  outcome: AttemptRecord['outcome'];
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  responseStatus: number | null;
  responseBody: string | null;
  error: { kind: string; message: string } | null;
}

export function createDeliveryActivities(deps: DeliveryActivityDeps) {
  const now = deps.now ?? (() => new Date());

  /** One attempt: checks the webhook is active, signs, sends, records, and throws on failure. */
  async function sendDelivery(input: SendInput): Promise<AttemptSummary | null> {
    // One transaction from the context's load to the request's start: its share lock on the
    // webhook row makes "no request starts after the pause call returns" hold (lockDeliveryContext).
    let requestStartedAt = now();
    const gate = await inTransaction(deps.pool, async (client) => {
      const ctx = await lockDeliveryContext(client, input.deliveryId);
      if (!ctx) return { stop: 'missing' as const };
      if (ctx.deliveryStatus === 'succeeded') return { stop: 'done' as const }; // a repeated run after a crash
      if (ctx.deliveryStatus === 'cancelled' || ctx.webhook.deleted) {
        await setDeliveryStatus(client, ctx.deliveryId, 'cancelled', ['pending', 'held', 'retrying']);
        return { stop: 'cancelled' as const };
      }
      if (ctx.webhook.status !== 'active' && !input.test) {
        await setDeliveryStatus(client, ctx.deliveryId, 'held', ['pending', 'held', 'retrying']);
        return { stop: 'inactive' as const, status: ctx.webhook.status };
      }
      const { body, ...request } = buildRequest(ctx, Math.floor(now().getTime() / 1000));
      // Leaving `held` here, as the request starts, is what paces a release (dispatcher.releaseHeld).
      if (ctx.deliveryStatus === 'held') await setDeliveryStatus(client, ctx.deliveryId, 'pending', ['held']);
      // The attempt's start is the request's, taken after the gate: a sync paces from it.
      requestStartedAt = now();
      const sent = deps.sender.send({
        ...request,
        body: request.method === 'POST' ? body : undefined,
        timeoutMs: deps.requestTimeoutMs,
      });
      return { ctx, url: request.url, headers: request.headers, body, sent };
    });
    if ('stop' in gate) {
      if (gate.stop === 'done') return null;
      if (gate.stop === 'inactive')
        throw ApplicationFailure.nonRetryable(`webhook is ${gate.status}`, FailureTypes.webhookInactive);
      throw ApplicationFailure.nonRetryable(
        gate.stop === 'missing' ? `delivery ${input.deliveryId} not found` : 'the delivery was cancelled',
        FailureTypes.deliveryCancelled,
      );
    }
    const { ctx, url, headers, body } = gate;
    const result = await gate.sent;

    const attemptNumber = ctx.attemptCount + 1;
    const succeeded = result.ok && result.status >= 200 && result.status < 300;
    const outcome: AttemptRecord['outcome'] = succeeded
      ? 'succeeded'
      : !result.ok && result.kind === 'blocked'
        ? 'blocked'
        : 'failed';
    const attempt: AttemptRecord = {
      id: input.test?.attemptId ?? newId('att'),
      deliveryId: ctx.deliveryId,
      webhookId: ctx.webhook.id,
      attemptNumber,
      startedAt: requestStartedAt,
      durationMs: result.durationMs,
      outcome,
      request: { url, method: ctx.webhook.method, headers: redactHeaders(headers), body },
      response: result.ok ? { status: result.status, headers: result.headers, body: result.body } : undefined,
      error: result.ok ? undefined : { kind: result.kind, message: result.message },
    };

    const temporalAttempt = input.test ? 1 : Context.current().info.attempt + (input.attemptOffset ?? 0);
    const delayMs =
      succeeded || input.test ? undefined : nextDelayMs(result, temporalAttempt, requestStartedAt.getTime());
    const gone = result.ok && result.status === 410 && !input.test;
    const nextStatus = succeeded ? 'succeeded' : input.test ? 'failed' : gone ? 'held' : 'retrying';
    await recordAttempt(
      deps.pool,
      attempt,
      {
        status: nextStatus,
        nextAttemptAt: delayMs === undefined || gone ? null : new Date(requestStartedAt.getTime() + delayMs),
      },
      {
        webhookId: ctx.webhook.id,
        deliveryId: ctx.deliveryId,
        attemptId: attempt.id,
        eventId: ctx.event.id,
        eventType: ctx.event.type,
        outcome,
        deliveryStatus: nextStatus,
        responseStatus: attempt.response?.status ?? null,
        startedAt: requestStartedAt.toISOString(),
        durationMs: attempt.durationMs,
      },
    );
    deps.metrics.attempts.inc({ outcome });
    deps.metrics.attemptDuration.observe(result.durationMs / 1000);
    if (succeeded && !input.test) {
      deps.metrics.deliveries.inc({ outcome: 'succeeded' });
      deps.metrics.endToEnd.observe((Date.now() - ctx.event.createdAt.getTime()) / 1000);
    }
    deps.logger.info(
      {
        deliveryId: ctx.deliveryId,
        webhookId: ctx.webhook.id,
        attempt: attemptNumber,
        outcome,
        status: attempt.response?.status,
        error: attempt.error?.kind,
        ms: attempt.durationMs,
      },
      'attempt',
    );

    const summary = summarize(attempt);
    if (succeeded || input.test) return summary;
    if (gone) {
      // 410 Gone: the receiver says the endpoint is gone for good; stop sending to it at once.
      await disableWebhook(deps.pool, ctx.webhook.id, 'The endpoint answered 410 Gone.');
      throw ApplicationFailure.nonRetryable('the endpoint answered 410 Gone', FailureTypes.webhookInactive);
    }
    throw ApplicationFailure.create({
      type: FailureTypes.attemptFailed,
      message: attempt.error
        ? `${attempt.error.kind}: ${attempt.error.message}`
        : `HTTP ${attempt.response?.status}`,
      nextRetryDelay: delayMs,
      // Also as a detail: the workflow waits this long after a failed local attempt, and Temporal's
      // failure converter does not hand nextRetryDelay to workflow code.
      details: [{ nextRetryDelayMs: delayMs }],
    });
  }

  function nextDelayMs(result: SendResult, attempt: number, nowMs: number): number {
    const retryAfter =
      result.ok && (result.status === 429 || result.status === 503)
        ? parseRetryAfter(result.headers['retry-after'], nowMs)
        : undefined;
    const delay = retryAfter ?? retryDelayMs(deps.retry, attempt);
    return Math.min(delay, deps.retry.maxIntervalMs);
  }

  /**
   * A sync's requests at interval 0: one activity sends a chunk of deliveries `concurrency` at a
   * time, so the Temporal server records one activity per chunk instead of one per entity
   * (docs/performance.md). A receiver's failure is reported, not thrown: the sync hands that
   * delivery to its own workflow. An inactive or deleted webhook stops the chunk (the rest stays
   * `unsent`). Herald's own trouble is thrown once every lane has stopped; the retry skips the
   * deliveries that succeeded meanwhile.
   */
  async function sendSyncChunk(input: {
    deliveryIds: string[];
    concurrency: number;
  }): Promise<SyncOutcome[]> {
    const outcomes: SyncOutcome[] = input.deliveryIds.map(() => 'unsent');
    let next = 0;
    let stop = false;
    let trouble: unknown;
    async function lane(): Promise<void> {
      while (!stop && next < input.deliveryIds.length) {
        const i = next++;
        try {
          await sendDelivery({ deliveryId: input.deliveryIds[i] });
          outcomes[i] = 'sent';
        } catch (err) {
          const type = err instanceof ApplicationFailure ? err.type : undefined;
          if (type === FailureTypes.attemptFailed) outcomes[i] = 'failed';
          else {
            stop = true;
            if (type === FailureTypes.webhookInactive) outcomes[i] = 'inactive';
            else if (type === FailureTypes.deliveryCancelled) outcomes[i] = 'cancelled';
            else trouble = err;
          }
        }
        Context.current().heartbeat();
      }
    }
    await Promise.all(Array.from({ length: Math.min(input.concurrency, input.deliveryIds.length) }, lane));
    if (trouble) throw trouble;
    return outcomes;
  }

  /** After the retry policy gave up: the delivery is failed and the webhook maybe disabled. */
  async function failDeliveryActivity(input: {
    deliveryId: string;
    reason: string;
  }): Promise<{ webhookDisabled: boolean }> {
    const webhookDisabled = await failDelivery(
      deps.pool,
      input.deliveryId,
      `Disabled after a delivery failed every retry with no success in between: ${input.reason}`,
    );
    deps.metrics.deliveries.inc({ outcome: 'failed' });
    return { webhookDisabled };
  }

  return { sendDelivery, sendSyncChunk, failDelivery: failDeliveryActivity };
}

/** The signed request for one attempt: the envelope, the webhook's headers and the signatures. */
function buildRequest(ctx: DeliveryContext, timestamp: number) {
  const body = JSON.stringify(buildEnvelope(ctx.event));
  const headers: Record<string, string> = {
    ...ctx.webhook.headers,
    'user-agent': `Herald/${VERSION}`,
    ...(ctx.webhook.method === 'POST' ? { 'content-type': 'application/json' } : {}),
    ...signatureHeaders(ctx.webhook.signature, ctx.webhook.secrets, ctx.event.id, timestamp, body),
  };
  const url = ctx.webhook.method === 'GET' ? getRequestUrl(ctx.webhook.url, body) : ctx.webhook.url;
  return { url, method: ctx.webhook.method, headers, body };
}

function summarize(a: AttemptRecord): AttemptSummary {
  return {
    id: a.id,
    deliveryId: a.deliveryId,
    outcome: a.outcome,
    attemptNumber: a.attemptNumber,
    startedAt: a.startedAt.toISOString(),
    durationMs: a.durationMs,
    responseStatus: a.response?.status ?? null,
    responseBody: a.response?.body.slice(0, 2048) ?? null,
    error: a.error ?? null,
  };
}
