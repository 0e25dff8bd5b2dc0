import { WorkflowIdReusePolicy } from '@temporalio/common';
import { Router } from 'express';
import type { SyncProgress } from '../../../activities/sync';
import { workflowIds } from '../../../workflows/shared';
import type { syncWorkflow } from '../../../workflows/sync';
import * as syncs from '../../db/queries/syncs';
import { ConflictError, UnavailableError } from '../../errors';
import { newId } from '../../ids';
import { searchAttributes } from '../../temporal/search-attributes';
import { withTimeout } from '../../with-timeout';
import { assertOwns, type Principal } from '../auth';
import { type ApiContext, workflowUrl } from '../context';
import { routeDefiner } from '../route';
import { ListQuery, listOf, Sync, SyncStart } from '../schemas';
import { webhookFor } from './webhooks';

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

  /**
   * An active sync's numbers straight from its workflow's progress query; Postgres (mirrored about
   * once a second) answers when Temporal does not, or once the sync has finished.
   */
  async function live(sync: syncs.SyncRow): Promise<syncs.SyncRow> {
    if (!syncs.ACTIVE_SYNC_STATUSES.includes(sync.status)) return sync;
    try {
      const handle = ctx.temporal.workflow.getHandle(workflowIds.sync(sync.id));
      const p = await withTimeout(handle.query<SyncProgress>('progress'), 2_000);
      return { ...sync, status: p.status, total: p.total, sent: p.sent, failed: p.failed };
    } catch {
      return sync;
    }
  }

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
      const sync = await syncs.insertSync(ctx.pool, {
        id: newId('sync'),
        webhookId: webhook.id,
        applicationId: webhook.applicationId,
        entityTypes: body.entityTypes ?? [],
      });
      if (!sync)
        throw new ConflictError('A sync of this webhook is already running; pause, resume or cancel it.');
      try {
        await ctx.temporal.workflow.start<typeof syncWorkflow>('syncWorkflow', {
          workflowId: workflowIds.sync(sync.id),
          taskQueue: ctx.config.temporal.taskQueue,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [
            {
              scope: {
                syncId: sync.id,
                webhookId: webhook.id,
                applicationId: webhook.applicationId,
                entityTypes: sync.entityTypes,
              },
              intervalMs: webhook.syncIntervalMs,
              concurrency: ctx.config.syncConcurrency,
              retry: ctx.config.retry,
              requestTimeoutMs: ctx.config.requestTimeoutMs,
              historyLimit: ctx.config.syncHistoryLimit,
            },
          ],
          typedSearchAttributes: [
            { key: searchAttributes.applicationId, value: webhook.applicationId },
            { key: searchAttributes.webhookId, value: webhook.id },
          ],
        });
      } catch (err) {
        await syncs.deleteSync(ctx.pool, sync.id);
        ctx.logger.warn({ err: (err as Error).message }, 'sync workflow start failed');
        throw new UnavailableError('The sync could not be started; try again.');
      }
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
    async ({ params, principal }) => view(await live(await syncFor(principal, params.syncId))),
  );

  // Pause, resume and cancel: a signal to the workflow, which owns the state. Repeating one is
  // harmless; only a finished sync refuses (409). The new status is written at once so that reads
  // from Postgres show it before the workflow mirrors it.
  const transitions = { pause: 'paused', resume: 'running', cancel: 'cancelled' } as const;
  for (const [action, to] of Object.entries(transitions) as [keyof typeof transitions, syncs.SyncStatus][]) {
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
        if (!syncs.ACTIVE_SYNC_STATUSES.includes(sync.status)) {
          throw new ConflictError(`The sync is ${sync.status}; it cannot ${action}.`);
        }
        await ctx.temporal.workflow.getHandle(workflowIds.sync(sync.id)).signal(action);
        await syncs.saveSyncProgress(ctx.pool, { ...sync, syncId: sync.id, status: to });
        return view({ ...(await live(sync)), status: to });
      },
    );
  }
  return router;
}
