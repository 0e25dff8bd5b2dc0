import type { Pool } from '../../src/db/pool';
import { apiClient, eventually } from '../support/client';
import { appWithKey, createWebhook } from '../support/fixtures';
import { type Reply, startReceiver } from '../support/receiver';

/**
 * The fault suite's bookkeeping. The publisher notes every event answered 202 and the webhooks it
 * fans out to; the receiver notes every request it accepted (a 2xx answered in time). At the end
 * every (event, webhook) pair must have been accepted at least once; extra acceptances are
 * duplicates, allowed (at least once) but counted.
 */

/** FAULT_SCALE=0.2 runs every case at a fifth of its size (CI); 1 is the full size. */
export const SCALE = Number(process.env.FAULT_SCALE ?? 1);
export const scaled = (n: number) => Math.max(10, Math.round(n * SCALE));

export interface LedgerCounts {
  published: number;
  expected: number;
  delivered: number;
  missing: number;
  duplicates: number;
  /** Accepted requests for pairs no 202 announced: must stay 0. */
  unexpected: number;
  requests: number;
}

export function createLedger(name: string) {
  const expected = new Map<string, string[]>();
  const accepted = new Map<string, number>();
  let requests = 0;
  const pair = (eventId: string, webhookId: string) => `${eventId} ${webhookId}`;

  function counts(): LedgerCounts {
    let total = 0;
    let delivered = 0;
    let duplicates = 0;
    const announced = new Set<string>();
    for (const [eventId, webhookIds] of expected) {
      for (const webhookId of webhookIds) {
        total++;
        announced.add(pair(eventId, webhookId));
        const n = accepted.get(pair(eventId, webhookId)) ?? 0;
        if (n > 0) delivered++;
        if (n > 1) duplicates += n - 1;
      }
    }
    const unexpected = [...accepted.keys()].filter((k) => !announced.has(k)).length;
    return {
      published: expected.size,
      expected: total,
      delivered,
      missing: total - delivered,
      duplicates,
      unexpected,
      requests,
    };
  }

  function line(): string {
    const c = counts();
    return `fault ${name}: published ${c.published}, expected ${c.expected}, delivered ${c.delivered}, missing ${c.missing}, duplicates ${c.duplicates}`;
  }

  return {
    name,
    /** An event answered 202, with the deliveries the answer listed. */
    accepted(eventId: string, deliveries: { webhookId: string }[]) {
      expected.set(
        eventId,
        deliveries.map((d) => d.webhookId),
      );
    },
    /** A request reached the receiver; `ok` when the receiver accepted it in time. */
    received(eventId: string, webhookId: string, ok: boolean) {
      requests++;
      if (ok) accepted.set(pair(eventId, webhookId), (accepted.get(pair(eventId, webhookId)) ?? 0) + 1);
    },
    counts,
    line,
    /** Waits (bounded) until nothing is missing; on timeout the error carries the ledger line. */
    async complete(timeoutMs: number): Promise<LedgerCounts> {
      try {
        await eventually(async () => counts().missing === 0, timeoutMs, 250);
      } catch {
        const missing = [...expected]
          .flatMap(([e, ws]) => ws.map((w) => pair(e, w)))
          .filter((p) => !accepted.has(p));
        throw new Error(`${line()} after ${timeoutMs} ms; first missing: ${missing.slice(0, 5).join('; ')}`);
      }
      return counts();
    },
    /**
     * Herald's own record agrees: exactly one delivery row per announced pair (a publisher's retry
     * with the same event id made none), each succeeded. A row may lag the receiver by an attempt
     * still being recorded (or sent again after a kill), so this waits for it, bounded.
     */
    async verifyDeliveryRows(pool: Pool, timeoutMs = 60_000): Promise<void> {
      let problems: string[] = [];
      const check = async () => {
        const { rows } = await pool.query(
          `SELECT event_id, webhook_id, count(*)::int AS n, bool_and(status = 'succeeded') AS succeeded,
                  string_agg(id || ' ' || status || ' after ' || attempt_count || ' attempts', ', ') AS states
             FROM deliveries WHERE event_id = ANY($1) GROUP BY event_id, webhook_id`,
          [[...expected.keys()]],
        );
        const found = new Map(rows.map((r) => [pair(r.event_id, r.webhook_id), r]));
        problems = [];
        for (const [eventId, webhookIds] of expected) {
          for (const webhookId of webhookIds) {
            const row = found.get(pair(eventId, webhookId));
            if (!row) problems.push(`${eventId} -> ${webhookId}: no delivery row`);
            else if (row.n !== 1) problems.push(`${eventId} -> ${webhookId}: ${row.n} delivery rows`);
            else if (!row.succeeded) problems.push(`${eventId} -> ${webhookId}: ${row.states}`);
          }
        }
        return problems.length === 0;
      };
      try {
        await eventually(check, timeoutMs, 250);
      } catch {
        throw new Error(
          `${name}: ${problems.length} delivery rows wrong: ${problems.slice(0, 5).join('; ')}`,
        );
      }
    },
  };
}

export type Ledger = ReturnType<typeof createLedger>;

/**
 * A receiver whose answers the case decides (`behaviour`, given how many requests this pair has
 * had before), feeding the ledger. An answer counts as accepted when it is a 2xx sent before
 * Herald's request timeout.
 */
export async function faultReceiver(
  ledger: Ledger,
  timeoutMs: number,
  behaviour: (nthForPair: number) => Reply = () => ({}),
) {
  const receiver = await startReceiver();
  const webhookOfPath = new Map<string, string>();
  const seen = new Map<string, number>();
  receiver.reply((req) => {
    const eventId = String(req.headers['webhook-id']);
    const webhookId = webhookOfPath.get(req.path) ?? `unknown:${req.path}`;
    const key = `${eventId} ${webhookId}`;
    const nth = seen.get(key) ?? 0;
    seen.set(key, nth + 1);
    const reply = behaviour(nth);
    const status = reply.status ?? 200;
    const inTime = (reply.delayMs ?? 0) < timeoutMs / 2;
    ledger.received(eventId, webhookId, !reply.reset && status >= 200 && status < 300 && inTime);
    return reply;
  });
  return {
    receiver,
    /** The URL for a webhook, once its id is known (see register). */
    url: (i: number) => receiver.url(`/fault/${i}`),
    register(i: number, webhookId: string) {
      webhookOfPath.set(`/fault/${i}`, webhookId);
    },
    close: () => receiver.close(),
  };
}

export type FaultReceiver = Awaited<ReturnType<typeof faultReceiver>>;

/**
 * An application seeing only `scope` with `count` webhooks on the receiver: each event published
 * with that scope fans out to all of them, and to nothing else.
 */
export async function faultWebhooks(
  apiUrl: string,
  adminToken: string,
  receiver: FaultReceiver,
  scope = 'fault',
  count = 2,
) {
  const admin = apiClient(apiUrl, adminToken);
  const { token } = await appWithKey(admin, { entityTypes: ['person'], scopes: [scope] });
  const key = apiClient(apiUrl, token);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const webhook = await createWebhook(key, { url: receiver.url(i) });
    receiver.register(i, webhook.id);
    ids.push(webhook.id);
  }
  return ids;
}

export interface PublishStats {
  accepted: number;
  /** Answers other than 202, by status, and their content types. */
  refused: Map<number, number>;
  refusedContentTypes: Set<string>;
  refusedRetryAfter: Set<string>;
  connectionErrors: number;
}

/**
 * Publishes events `from`..`to`-1 with the client's own ids, `lanes` at a time. A connection error
 * or a 503 is retried with the same id (so a retry after a lost answer must not make a second
 * delivery) until it is answered 202, for at most `giveUpMs`.
 */
export async function publish(opts: {
  apiUrl: () => string;
  adminToken: string;
  ledger: Ledger;
  prefix: string;
  /** The events' scope (default `fault`): see faultWebhooks. */
  scope?: string;
  from: number;
  to: number;
  lanes?: number;
  stats?: PublishStats;
  giveUpMs?: number;
  onAccepted?: (count: number) => void;
}): Promise<PublishStats> {
  const stats: PublishStats = opts.stats ?? {
    accepted: 0,
    refused: new Map(),
    refusedContentTypes: new Set(),
    refusedRetryAfter: new Set(),
    connectionErrors: 0,
  };
  const giveUpMs = opts.giveUpMs ?? 120_000;
  let next = opts.from;
  async function one(i: number): Promise<void> {
    const id = `${opts.prefix}-${i}`;
    const body = JSON.stringify({
      id,
      type: 'person.updated',
      entity: { type: 'person', id: `p${i}` },
      data: { i },
      scopes: [opts.scope ?? 'fault'],
    });
    const deadline = Date.now() + giveUpMs;
    for (let pause = 50; ; pause = Math.min(pause * 2, 1_000)) {
      if (Date.now() > deadline) throw new Error(`event ${id} was not accepted in ${giveUpMs} ms`);
      try {
        const res = await fetch(`${opts.apiUrl()}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${opts.adminToken}`, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(20_000),
        });
        const text = await res.text();
        if (res.status === 202) {
          opts.ledger.accepted(id, JSON.parse(text).deliveries);
          stats.accepted++;
          opts.onAccepted?.(stats.accepted);
          return;
        }
        stats.refused.set(res.status, (stats.refused.get(res.status) ?? 0) + 1);
        stats.refusedContentTypes.add(res.headers.get('content-type') ?? '');
        stats.refusedRetryAfter.add(res.headers.get('retry-after') ?? '');
        if (res.status !== 503) throw new Error(`event ${id}: ${res.status} ${text}`);
      } catch (err) {
        if ((err as Error).message.startsWith(`event ${id}`)) throw err;
        stats.connectionErrors++;
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  }
  await Promise.all(
    Array.from({ length: opts.lanes ?? 8 }, async () => {
      while (next < opts.to) await one(next++);
    }),
  );
  return stats;
}
