import { Router } from 'express';
import { z } from 'zod';
import type { Pool } from '../../db/pool';
import { inTransaction } from '../../db/pool';
import { deleteEntity, lockEntity, upsertEntity } from '../../db/queries/entities';
import {
  getEvent,
  insertEventWithDeliveries,
  listEventTypes,
  type PublishResult,
} from '../../db/queries/events';
import { NotFoundError } from '../../errors';
import type { ApiContext } from '../context';
import { routeDefiner } from '../route';
import { Event, EventAccepted, EventPublish, EventType } from '../schemas';

export const accepted = (r: PublishResult) => ({
  id: r.id,
  deliveries: r.deliveries.map((d) => ({ id: d.id, webhookId: d.webhookId, status: d.status })),
});

async function existingEvent(pool: Pool, id: string | undefined): Promise<PublishResult | undefined> {
  if (!id) return undefined;
  const event = await getEvent(pool, id);
  return event && { id: event.id, deliveries: event.deliveries, duplicate: true };
}

export function eventsRouter(ctx: ApiContext): Router {
  const router = Router();
  const route = routeDefiner(router, ctx.authenticate);
  const tag = 'Events';

  route(
    {
      method: 'post',
      path: '/v1/events',
      summary: 'Publish an entity change; fans out to every subscribed webhook',
      tag,
      access: 'events:publish',
      body: EventPublish,
      status: 202,
      response: EventAccepted,
    },
    async ({ body }) => {
      const repeat = await existingEvent(ctx.pool, body.id);
      if (repeat) return accepted(repeat);
      const action = body.type.split('.')[1] as 'created' | 'updated' | 'deleted';
      const result = await inTransaction(ctx.pool, async (client) => {
        // The event also updates Herald's snapshot of the entity, which syncs and tests read. The
        // row stays locked to the commit, so concurrent events of one entity apply one by one.
        const known = await lockEntity(client, body.entity.type, body.entity.id);
        const scopes = body.scopes ?? known?.scopes ?? [];
        let data = body.data ?? (known?.data as Record<string, unknown> | undefined) ?? {};
        if (action === 'deleted') {
          const gone = await deleteEntity(client, body.entity.type, body.entity.id);
          data = body.data ?? ((gone?.data ?? data) as Record<string, unknown>);
        } else {
          await upsertEntity(
            client,
            { type: body.entity.type, id: body.entity.id, data, scopes },
            { row: known },
          );
        }
        return insertEventWithDeliveries(client, {
          id: body.id,
          type: body.type,
          action,
          entityType: body.entity.type,
          entityId: body.entity.id,
          data,
          scopes,
        });
      });
      return accepted(result);
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/events/:id',
      summary: 'Read an event and its deliveries',
      tag,
      access: 'events:publish',
      response: Event,
    },
    async ({ params, principal }) => {
      const event = await getEvent(ctx.pool, params.id);
      if (!event) throw new NotFoundError(`Event ${params.id}`);
      const deliveries = event.deliveries.filter(
        (d) => principal.kind === 'admin' || d.applicationId === principal.applicationId,
      );
      return {
        id: event.id,
        type: event.type,
        action: event.action,
        entity: { type: event.entityType, id: event.entityId },
        data: event.data,
        createdAt: event.createdAt.toISOString(),
        deliveries: deliveries.map((d) => ({ id: d.id, webhookId: d.webhookId, status: d.status })),
      };
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/event-types',
      summary: 'The catalog of event types, for filters',
      tag,
      access: 'any',
      response: z.object({ data: z.array(EventType) }),
    },
    async () => {
      const types = await listEventTypes(ctx.pool);
      return {
        data: ['webhook.test', ...types].map((type) => {
          const [entityType, action] = type.split('.');
          return { type, entityType, action };
        }),
      };
    },
  );
  return router;
}
