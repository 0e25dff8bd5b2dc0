import { WorkflowNotFoundError } from '@temporalio/client';
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
 * `POST /v1/<resources>/{id}/pause|resume|cancel` for a resource whose state a workflow owns (a
 * sync, a recovery): each is an update of that workflow, which answers once PostgreSQL has the
 * new state (a cancel, once it has stopped); the answer is the row read again. Only an active one
 * may change (409 otherwise); 503 while a worker is still starting its workflow, or when it does
 * not answer.
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
        unavailable: `the ${c.noun}'s workflow is starting or does not answer`,
      },
      async ({ params, principal }) => {
        const row = await c.load(principal, Object.values(params)[0]);
        const finished = (r: Row) => new ConflictError(`The ${c.noun} is ${r.status}; it cannot ${action}.`);
        if (!c.active.includes(row.status)) throw finished(row);
        try {
          await withTimeout(
            ctx.temporal.workflow.getHandle(c.workflowId(row.id)).executeUpdate(update),
            UPDATE_TIMEOUT_MS,
          );
        } catch (err) {
          const now = await c.reread(row.id);
          if (!c.active.includes(now.status)) throw finished(now);
          ctx.logger.warn({ id: row.id, action, err: (err as Error).message }, `${c.noun} update failed`);
          throw new UnavailableError(
            err instanceof WorkflowNotFoundError
              ? `The ${c.noun} is starting; try again in a moment.`
              : `The ${c.noun} did not answer; try again.`,
          );
        }
        return c.view(await c.reread(row.id));
      },
    );
  }
}
