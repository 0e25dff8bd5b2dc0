import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from '../logger';
import { ATTEMPTS_CHANNEL } from './queries/deliveries';

export interface AttemptNotice {
  webhookId: string;
  deliveryId: string;
  attemptId: string;
  attemptNumber: number;
  /** The workflow that made the attempt; null for workflows from before owners. */
  workflowId: string | null;
  eventId: string;
  eventType: string;
  outcome: string;
  deliveryStatus: string;
  responseStatus: number | null;
  startedAt: string;
  durationMs: number;
}

/** A delivery that reached held, failed or cancelled (migration 013's trigger). */
export interface DeliveryStateNotice {
  webhookId: string;
  deliveryId: string;
  eventId: string;
  eventType: string;
  deliveryStatus: string;
  attemptCount: number;
  nextAttemptAt: string | null;
  createdAt: string;
}

export const DELIVERY_STATES_CHANNEL = 'herald_delivery_states';

/** What a delivery stream hears: one server-sent event each, named by `event`. */
export type DeliveryNotice =
  | { event: 'attempt'; data: AttemptNotice }
  | { event: 'delivery'; data: DeliveryStateNotice };

/**
 * One LISTEN connection per API process, fanned out to every open delivery stream. Workers
 * NOTIFY as they record attempts, and a trigger as deliveries reach a state no attempt reports,
 * so a stream sees what any worker or API process did. The connection
 * reconnects by itself after Postgres restarts.
 */
export function createAttemptNotifications(connectionString: string, logger: Logger) {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  let client: pg.Client | undefined;
  let closed = false;
  let listening: Promise<void> | undefined;

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString });
    c.on('notification', (msg) => {
      if (!msg.payload) return;
      try {
        const data = JSON.parse(msg.payload);
        const event = msg.channel === DELIVERY_STATES_CHANNEL ? 'delivery' : 'attempt';
        emitter.emit(data.webhookId, { event, data } as DeliveryNotice);
      } catch {}
    });
    c.on('error', () => {});
    c.on('end', () => {
      client = undefined;
      listening = undefined;
      if (!closed && emitter.eventNames().length > 0) setTimeout(() => ensure().catch(() => {}), 1_000);
    });
    await c.connect();
    await c.query(`LISTEN ${ATTEMPTS_CHANNEL}; LISTEN ${DELIVERY_STATES_CHANNEL}`);
    client = c;
  }

  function ensure(): Promise<void> {
    if (!listening) {
      listening = connect().catch((err) => {
        listening = undefined;
        logger.warn({ err: err.message }, 'attempt notifications unavailable');
        throw err;
      });
    }
    return listening;
  }

  return {
    /** Calls fn with every notice about the webhook's deliveries until the returned function is called. */
    async subscribe(webhookId: string, fn: (n: DeliveryNotice) => void): Promise<() => void> {
      emitter.on(webhookId, fn);
      await ensure().catch(() => {});
      return () => emitter.off(webhookId, fn);
    },
    async close() {
      closed = true;
      await client?.end().catch(() => {});
    },
  };
}

export type AttemptNotifications = ReturnType<typeof createAttemptNotifications>;
