import { setTimeout as sleep } from 'node:timers/promises';
import { type WorkflowHandle, WorkflowNotFoundError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { z } from 'zod';
import { ConflictError, UnavailableError } from '../errors';
import { withTimeout } from '../with-timeout';
import type { KeyScope, Principal } from './auth';
import type { ApiContext } from './context';
import type { routeDefiner } from './route';

/** A pause or resume answers within a workflow task; a cancel waits for the requests under way. */
const UPDATE_TIMEOUT_MS = 30_000;
/**
 * The API commits a sync or a recovery with its outbox entry and answers 202; a worker starts the
 * workflow a moment later (src/temporal/starter.ts). An update in that moment waits this long
 * for the workflow rather than failing a request that is valid: long enough for a start call that
 * failed at its deadline to be made again when its claim lapses (starter.ts, 10 s).
 */
const START_WAIT_MS = 20_000;

/** Sends the update, waiting (with backoff) while the workflow is not started yet. */
async function updateOnceStarted(handle: WorkflowHandle, update: UpdateDefinition<unknown, []>) {
  const deadline = Date.now() + START_WAIT_MS;
  for (let waitMs = 20; ; waitMs = Math.min(waitMs * 2, 500)) {
    try {
      return await handle.executeUpdate(update);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || Date.now() + waitMs > deadline) throw err;
      await sleep(waitMs);
    }
  }
}

/**
 * `POST /v1/<resources>/{id}/pause|resume|cancel` for a resource whose state a workflow owns (a
 * sync, a recovery): each is an update of that workflow, which answers once PostgreSQL has the
 * new state (a cancel, once it has stopped); the answer is the row read again. Only an active one
 * may change (409 otherwise). Right after the start, the update waits for a worker to start its
 * workflow; 503 when none does within START_WAIT_MS, or when the workflow does not answer.
 */
export function controlRoutes<Row extends { id: string; status: string }>(
  ctx: ApiContext,
  route: ReturnType<typeof routeDefiner>,
  c: {
    noun: string;
    path: string;
    tag: string;
    access: KeyScope;
    response: z.ZodType;
    active: string[];
    updates: Record<'pause' | 'resume' | 'cancel', UpdateDefinition<unknown, []>>;
    load: (principal: Principal, id: string) => Promise<Row>;
    reread: (id: string) => Promise<Row>;
    workflowId: (id: string) => string;
    view: (row: Row) => unknown;
  },
): void {
  for (const [action, update] of Object.entries(c.updates)) {
    route(
      {
        method: 'post',
        path: `${c.path}/${action}`,
        operationId: `${action}${c.noun[0].toUpperCase()}${c.noun.slice(1)}`,
        summary: `${action[0].toUpperCase()}${action.slice(1)} a ${c.noun}`,
        tag: c.tag,
        access: c.access,
        response: c.response,
        conflict: `the ${c.noun} has finished`,
        unavailable: `no worker has started the ${c.noun}'s workflow yet, or it does not answer`,
      },
      async ({ params, principal }) => {
        const row = await c.load(principal, Object.values(params)[0]);
        const finished = (r: Row) => new ConflictError(`The ${c.noun} is ${r.status}; it cannot ${action}.`);
        if (!c.active.includes(row.status)) throw finished(row);
        try {
          await withTimeout(
            updateOnceStarted(ctx.temporal.workflow.getHandle(c.workflowId(row.id)), update),
            UPDATE_TIMEOUT_MS,
          );
        } catch (err) {
          const now = await c.reread(row.id);
          if (!c.active.includes(now.status)) throw finished(now);
          ctx.logger.warn({ id: row.id, action, err: (err as Error).message }, `${c.noun} update failed`);
          throw new UnavailableError(
            err instanceof WorkflowNotFoundError
              ? `No worker has started the ${c.noun} yet; try again in a moment.`
              : `The ${c.noun} did not answer; try again.`,
          );
        }
        return c.view(await c.reread(row.id));
      },
    );
  }
}
