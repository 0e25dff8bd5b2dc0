import { Router } from 'express';
import {
  getDelivery,
  getDeliveryWithAttempts,
  insertRedelivery,
  listDeliveries,
} from '../../db/queries/delivery-log';
import { webhookStats } from '../../db/queries/stats';
import { buildEnvelope } from '../../delivery/envelope';
import { NotFoundError } from '../../errors';
import { newId } from '../../ids';
import { assertOwns } from '../auth';
import { type ApiContext, workflowUrl } from '../context';
import { routeDefiner } from '../route';
import { Delivery, DeliveryDetail, DeliveryListQuery, listOf, StatsQuery, WebhookStats } from '../schemas';
import { webhookFor } from './webhooks';

export function deliveriesRouter(ctx: ApiContext): Router {
  const router = Router();
  const route = routeDefiner(router, ctx.authenticate);
  const tag = 'Deliveries';
  /** Links to the workflow that owns the delivery; none while nobody does (pending or held). */
  const withLink = <T extends { workflowId: string | null }>({ workflowId, ...d }: T) => ({
    ...d,
    workflowUrl: workflowId ? workflowUrl(ctx.config, workflowId) : null,
  });

  route(
    {
      method: 'get',
      path: '/v1/webhooks/:id/deliveries',
      operationId: 'listDeliveries',
      summary: 'Deliveries of a webhook, newest first',
      tag,
      access: 'deliveries:read',
      query: DeliveryListQuery,
      response: listOf(Delivery),
    },
    async ({ params, query, principal }) => {
      const webhook = await webhookFor(ctx, principal, params.id);
      const result = await listDeliveries(ctx.pool, webhook.id, query);
      return {
        data: result.data.map(({ applicationId: _a, ...d }) => withLink(d)),
        nextCursor: result.nextCursor,
      };
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/webhooks/:id/stats',
      operationId: 'getWebhookStats',
      summary: "A webhook's deliveries by outcome and its attempts' latency, per time bucket",
      tag,
      access: 'deliveries:read',
      query: StatsQuery,
      response: WebhookStats,
    },
    async ({ params, query, principal }) => {
      const webhook = await webhookFor(ctx, principal, params.id);
      const stats = await webhookStats(ctx.pool, webhook.id, query.window);
      return { webhookId: webhook.id, window: query.window, ...stats };
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/webhooks/:id/deliveries/stream',
      operationId: 'streamDeliveries',
      summary:
        'Server-sent events: an `attempt` event per attempt as it happens, a `delivery` event as a delivery becomes held, failed or cancelled',
      tag,
      access: 'deliveries:read',
      responseDescription: 'text/event-stream',
    },
    async ({ params, principal, res }) => {
      const webhook = await webhookFor(ctx, principal, params.id);
      // Subscribe (and so LISTEN) before answering, so no attempt falls between the two.
      const unsubscribe = await ctx.notifications.subscribe(webhook.id, (notice) => {
        if (notice.event === 'delivery') {
          res.write(`event: delivery\ndata: ${JSON.stringify(notice.data)}\n\n`);
          return;
        }
        const { workflowId, ...rest } = notice.data;
        const data = { ...rest, workflowUrl: workflowId ? workflowUrl(ctx.config, workflowId) : null };
        res.write(`id: ${rest.attemptId}\nevent: attempt\ndata: ${JSON.stringify(data)}\n\n`);
      });
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n: connected\n\n');
      // A comment line every 15 s keeps proxies from closing an idle stream.
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      const stop = () => {
        clearInterval(keepAlive);
        unsubscribe();
      };
      // The response's close, not the request's: that one fires as soon as a request body has been
      // read, possibly before this line. The client may also have gone while we subscribed.
      if (res.closed) stop();
      else res.on('close', stop);
      return undefined;
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/deliveries/:id',
      operationId: 'getDelivery',
      summary: 'A delivery with every attempt',
      tag,
      access: 'deliveries:read',
      response: DeliveryDetail,
    },
    async ({ params, principal }) => {
      const delivery = await getDeliveryWithAttempts(ctx.pool, params.id);
      assertOwns(principal, delivery?.applicationId, `Delivery ${params.id}`);
      const { event, applicationId: _a, ...rest } = delivery!;
      return { ...withLink(rest), payload: buildEnvelope(event) };
    },
  );

  route(
    {
      method: 'post',
      path: '/v1/deliveries/:id/redeliver',
      operationId: 'redeliver',
      summary: 'A fresh delivery of the same event',
      tag,
      access: 'webhooks:write',
      status: 202,
      response: Delivery,
      creates: { path: '/v1/deliveries/:id' },
    },
    async ({ params, principal }) => {
      const original = await getDelivery(ctx.pool, params.id);
      assertOwns(principal, original?.applicationId, `Delivery ${params.id}`);
      const row = await insertRedelivery(ctx.pool, newId('dlv'), original!);
      if (!row) throw new NotFoundError(`Webhook ${original!.webhookId}`);
      const { applicationId: _a, ...view } = (await getDelivery(ctx.pool, row.id))!;
      return withLink(view);
    },
  );
  return router;
}
