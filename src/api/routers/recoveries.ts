import { Router } from 'express';
import { cancelRecoveryUpdate, pauseRecoveryUpdate, resumeRecoveryUpdate } from '../../../workflows/recovery';
import { workflowIds } from '../../../workflows/shared';
import { inTransaction } from '../../db/pool';
import * as recoveries from '../../db/queries/recoveries';
import { ConflictError, UnprocessableError } from '../../errors';
import { newId } from '../../ids';
import { assertOwns, type Principal } from '../auth';
import { type ApiContext, workflowUrl } from '../context';
import { routeDefiner } from '../route';
import { ListQuery, listOf, Recovery, RecoveryStart } from '../schemas';
import { controlRoutes } from '../workflow-control';
import { webhookFor } from './webhooks';

/** Bulk recovery: redeliver a webhook's failed deliveries of a time window, as one durable workflow. */
export function recoveriesRouter(ctx: ApiContext): Router {
  const router = Router();
  const route = routeDefiner(router, ctx.authenticate);
  const tag = 'Recoveries';
  const view = (r: recoveries.RecoveryRow) => ({
    id: r.id,
    webhookId: r.webhookId,
    since: r.since.toISOString(),
    until: r.until.toISOString(),
    status: r.status,
    statuses: r.statuses,
    total: r.total,
    redelivered: r.redelivered,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
    workflowUrl: workflowUrl(ctx.config, workflowIds.recovery(r.id)),
  });
  async function recoveryFor(p: Principal, id: string) {
    const r = await recoveries.getRecovery(ctx.pool, id);
    assertOwns(p, r?.applicationId, `Recovery ${id}`);
    return r!;
  }

  route(
    {
      method: 'post',
      path: '/v1/webhooks/:id/recover',
      operationId: 'startRecovery',
      summary:
        'Redeliver every failed delivery of a time window (one recovery at a time; 409 while one runs)',
      tag,
      access: 'webhooks:write',
      body: RecoveryStart,
      status: 202,
      response: Recovery,
      conflict: 'a recovery of this webhook is running',
      unprocessable: '`until` is not after `since`',
      creates: { path: '/v1/recoveries/:recoveryId' },
    },
    async ({ params, body, principal }) => {
      const webhook = await webhookFor(ctx, principal, params.id);
      if (body.until && Date.parse(body.until) <= Date.parse(body.since))
        throw new UnprocessableError([{ path: 'body.until', message: 'must be after since' }]);
      const id = newId('rcv');
      // The row and its outbox entry in one commit; a worker starts `recover:<id>`.
      const recovery = await inTransaction(ctx.pool, (client) =>
        recoveries.insertRecovery(
          client,
          {
            id,
            webhookId: webhook.id,
            applicationId: webhook.applicationId,
            since: new Date(body.since),
            until: body.until ? new Date(body.until) : undefined,
            statuses: body.status,
          },
          workflowIds.recovery(id),
        ),
      );
      if (!recovery)
        throw new ConflictError('A recovery of this webhook is running; pause, resume or cancel it.');
      return view(recovery);
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/webhooks/:id/recoveries',
      operationId: 'listRecoveries',
      summary: 'Recoveries of a webhook, newest first',
      tag,
      access: 'webhooks:read',
      query: ListQuery,
      response: listOf(Recovery),
    },
    async ({ params, query, principal }) => {
      const webhook = await webhookFor(ctx, principal, params.id);
      const result = await recoveries.listRecoveries(ctx.pool, webhook.id, query.limit, query.cursor);
      return { data: result.data.map(view), nextCursor: result.nextCursor };
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/recoveries/:recoveryId',
      operationId: 'getRecovery',
      summary: 'A recovery and its progress',
      tag,
      access: 'webhooks:read',
      response: Recovery,
    },
    async ({ params, principal }) => view(await recoveryFor(principal, params.recoveryId)),
  );

  controlRoutes(ctx, route, {
    noun: 'recovery',
    path: '/v1/recoveries/:recoveryId',
    tag,
    access: 'webhooks:write',
    response: Recovery,
    active: recoveries.ACTIVE_RECOVERY_STATUSES,
    updates: { pause: pauseRecoveryUpdate, resume: resumeRecoveryUpdate, cancel: cancelRecoveryUpdate },
    load: recoveryFor,
    reread: async (id) => (await recoveries.getRecovery(ctx.pool, id))!,
    workflowId: workflowIds.recovery,
    view,
  });
  return router;
}
