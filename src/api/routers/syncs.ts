import { Router } from 'express';
import { workflowIds } from '../../../workflows/shared';
import { cancelSyncUpdate, pauseSyncUpdate, resumeSyncUpdate } from '../../../workflows/sync';
import { inTransaction } from '../../db/pool';
import * as syncs from '../../db/queries/syncs';
import { ConflictError } from '../../errors';
import { newId } from '../../ids';
import { assertOwns, type Principal } from '../auth';
import { type ApiContext, workflowUrl } from '../context';
import { routeDefiner } from '../route';
import { ListQuery, listOf, Sync, SyncStart } from '../schemas';
import { controlRoutes } from '../workflow-control';
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

  async function syncFor(p: Principal, id: string) {
    const sync = await syncs.getSync(ctx.pool, id);
    assertOwns(p, sync?.applicationId, `Sync ${id}`);
    return sync!;
  }

  route(
    {
      method: 'post',
      path: '/v1/webhooks/:id/syncs',
      operationId: 'startSync',
      summary: 'Start a full sync; 409 while one runs',
      tag,
      access: 'sync:run',
      body: SyncStart,
      status: 202,
      response: Sync,
      conflict: 'a sync of this webhook is running',
      creates: { path: '/v1/syncs/:syncId' },
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
      operationId: 'listSyncs',
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
      operationId: 'getSync',
      summary: 'A sync and its progress',
      tag,
      access: 'webhooks:read',
      response: Sync,
    },
    async ({ params, principal }) => view(await syncFor(principal, params.syncId)),
  );

  controlRoutes(ctx, route, {
    noun: 'sync',
    path: '/v1/syncs/:syncId',
    tag,
    access: 'sync:run',
    response: Sync,
    active: syncs.ACTIVE_SYNC_STATUSES,
    updates: { pause: pauseSyncUpdate, resume: resumeSyncUpdate, cancel: cancelSyncUpdate },
    load: syncFor,
    reread: async (id) => (await syncs.getSync(ctx.pool, id))!,
    workflowId: workflowIds.sync,
    view,
  });
  return router;
}
