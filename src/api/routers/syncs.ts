import { WorkflowNotFoundError } from '@temporalio/client';
import { Router } from 'express';
import { workflowIds } from '../../../workflows/shared';
import { cancelSyncUpdate, pauseSyncUpdate, resumeSyncUpdate } from '../../../workflows/sync';
import { inTransaction } from '../../db/pool';
import * as syncs from '../../db/queries/syncs';
import { ConflictError, UnavailableError } from '../../errors';
import { newId } from '../../ids';
import { withTimeout } from '../../with-timeout';
import { assertOwns, type Principal } from '../auth';
import { type ApiContext, workflowUrl } from '../context';
import { routeDefiner } from '../route';
import { ListQuery, listOf, Sync, SyncStart } from '../schemas';
import { webhookFor } from './webhooks';

/** A pause or resume answers within a workflow task; a cancel waits for the requests under way. */
const UPDATE_TIMEOUT_MS = 30_000;

export function syncsRouter(ctx: ApiContext): Router {
  const router = Router();
  const route = routeDefiner(router, ctx.authenticate);
  const tag = 'Syncs';
  const view = (s: syncs.SyncRow) => ({
    id: s.id,
    webhookId: s.webhookId,
    entityTypes: s.entityTypes,
    status: s.status,
    total: s.total,
    sent: s.sent,
    failed: s.failed,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    finishedAt: s.finishedAt?.toISOString() ?? null,
    workflowUrl: workflowUrl(ctx.config, workflowIds.sync(s.id)),
  });

  async function syncFor(p: Principal, id: string) {
    const sync = await syncs.getSync(ctx.pool, id);
    assertOwns(p, sync?.applicationId, `Sync ${id}`);
    return sync!;
  }

  route(
    {
      method: 'post',
      path: '/v1/webhooks/:id/syncs',
      summary: 'Start a full sync; 409 while one runs',
      tag,
      access: 'sync:run',
      body: SyncStart,
      status: 202,
      response: Sync,
    },
    async ({ params, body, principal }) => {
      const webhook = await webhookFor(ctx, principal, params.id);
      const id = newId('sync');
      const scope = {
        syncId: id,
        webhookId: webhook.id,
        applicationId: webhook.applicationId,
        entityTypes: body.entityTypes ?? [],
      };
      // The row and its outbox entry in one commit; a worker starts `sync:<id>` (src/temporal/starter.ts).
      const sync = await inTransaction(ctx.pool, (client) =>
        syncs.insertSync(
          client,
          { ...scope, id },
          {
            workflowId: workflowIds.sync(id),
            payload: { scope, intervalMs: webhook.syncIntervalMs },
          },
        ),
      );
      if (!sync)
        throw new ConflictError('A sync of this webhook is already running; pause, resume or cancel it.');
      return view(sync);
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/webhooks/:id/syncs',
      summary: 'Syncs of a webhook, newest first',
      tag,
      access: 'webhooks:read',
      query: ListQuery,
      response: listOf(Sync),
    },
    async ({ params, query, principal }) => {
      const webhook = await webhookFor(ctx, principal, params.id);
      const result = await syncs.listSyncs(ctx.pool, webhook.id, query.limit, query.cursor);
      return { data: result.data.map(view), nextCursor: result.nextCursor };
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/syncs/:syncId',
      summary: 'A sync and its progress',
      tag,
      access: 'webhooks:read',
      response: Sync,
    },
    async ({ params, principal }) => view(await syncFor(principal, params.syncId)),
  );

  // Pause, resume and cancel: updates of the workflow, which owns the sync's state and answers
  // with its progress once PostgreSQL has it (a cancel, once the sync has stopped).
  const actions = { pause: pauseSyncUpdate, resume: resumeSyncUpdate, cancel: cancelSyncUpdate };
  for (const [action, update] of Object.entries(actions)) {
    route(
      {
        method: 'post',
        path: `/v1/syncs/:syncId/${action}`,
        summary: `${action[0].toUpperCase()}${action.slice(1)} a sync`,
        tag,
        access: 'sync:run',
        response: Sync,
      },
      async ({ params, principal }) => {
        const sync = await syncFor(principal, params.syncId);
        const finished = () => new ConflictError(`The sync is ${sync.status}; it cannot ${action}.`);
        if (!syncs.ACTIVE_SYNC_STATUSES.includes(sync.status)) throw finished();
        try {
          const handle = ctx.temporal.workflow.getHandle(workflowIds.sync(sync.id));
          await withTimeout(handle.executeUpdate(update), UPDATE_TIMEOUT_MS);
        } catch (err) {
          const now = (await syncs.getSync(ctx.pool, sync.id))!;
          if (!syncs.ACTIVE_SYNC_STATUSES.includes(now.status)) {
            throw new ConflictError(`The sync is ${now.status}; it cannot ${action}.`);
          }
          ctx.logger.warn({ syncId: sync.id, action, err: (err as Error).message }, 'sync update failed');
          throw new UnavailableError(
            err instanceof WorkflowNotFoundError
              ? 'The sync is starting; try again in a moment.'
              : `The sync did not answer; try again.`,
          );
        }
        return view((await syncs.getSync(ctx.pool, sync.id))!);
      },
    );
  }
  return router;
}
