import type { Pool } from '../db/pool';
import { type BatchEvent, type PublishResult, publishBatch, publishEvent } from '../db/queries/events';

/** Statements under way at once: enough to keep two cores busy, and few enough that publishes group. */
const STATEMENTS_IN_FLIGHT = 2;
/** The most single publishes one statement carries. */
const MOST_PER_STATEMENT = 100;

interface Waiting {
  event: BatchEvent;
  resolve: (result: PublishResult) => void;
  reject: (err: unknown) => void;
}

/**
 * POST /v1/events, one request at a time as the publisher sees it, fewer commits as PostgreSQL
 * sees it: a publish that arrives while STATEMENTS_IN_FLIGHT statements are under way waits for
 * one of them, then goes with every publish that waited alongside it as one batch
 * (herald_publish_batch: one statement, one transaction, one commit). Each request is answered
 * with its own event's result once that commit is done, so a 202 still means written. A quiet API
 * sends each publish at once, on its own. A batch that fails is tried again event by event, so
 * one event's trouble (a deadlock, a concurrent repeat of its id) is never another's.
 */
export function createPublishQueue(pool: Pool): (event: BatchEvent) => Promise<PublishResult> {
  const waiting: Waiting[] = [];
  let inFlight = 0;

  const alone = async ({ event, resolve, reject }: Waiting) => {
    try {
      resolve(await publishEvent(pool, event));
    } catch (err) {
      reject(err);
    }
  };
  const together = async (group: Waiting[]) => {
    if (group.length === 1) return alone(group[0]);
    let results: PublishResult[];
    try {
      results = await publishBatch(
        pool,
        group.map((w) => w.event),
      );
    } catch {
      await Promise.all(group.map(alone));
      return;
    }
    group.forEach((w, i) => {
      w.resolve(results[i]);
    });
  };
  const next = () => {
    while (inFlight < STATEMENTS_IN_FLIGHT && waiting.length > 0) {
      inFlight++;
      void together(waiting.splice(0, MOST_PER_STATEMENT)).finally(() => {
        inFlight--;
        next();
      });
    }
  };
  return (event) =>
    new Promise<PublishResult>((resolve, reject) => {
      waiting.push({ event, resolve, reject });
      next();
    });
}
