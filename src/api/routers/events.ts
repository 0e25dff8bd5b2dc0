import { Router } from 'express';
import { z } from 'zod';
import { getEvent, listEventTypes, type PublishResult, publishEvent } from '../../db/queries/events';
import { NotFoundError, UnprocessableError } from '../../errors';
import { newId } from '../../ids';
import type { ApiContext } from '../context';
import { routeDefiner } from '../route';
import { Event, EventAccepted, EventPublish, EventType } from '../schemas';

export const accepted = (r: PublishResult) => ({
  id: r.id,
  deliveries: r.deliveries.map((d) => ({ id: d.id, webhookId: d.webhookId, status: d.status })),
});

export function eventsRouter(ctx: ApiContext): Router {
  const router = Router();
  const route = routeDefiner(router, ctx.authenticate);
  const tag = 'Events';

  route(
    {
      method: 'post',
      path: '/v1/events',
      operationId: 'publishEvent',
      summary: 'Publish an entity change; fans out to every subscribed webhook',
      tag,
      access: 'events:publish',
      body: EventPublish,
      status: 202,
      response: EventAccepted,
      unprocessable: 'the event type does not start with the entity type',
      creates: { path: '/v1/events/:id' },
    },
    async ({ body }) => {
      if (body.type.split('.')[0] !== body.entity.type) {
        throw new UnprocessableError([
          { path: 'body.type', message: `must start with the entity type "${body.entity.type}."` },
        ]);
      }
      const result = await publishEvent(ctx.pool, {
        id: body.id ?? newId('evt'),
        type: body.type,
        action: body.type.split('.')[1],
        entityType: body.entity.type,
        entityId: body.entity.id,
        data: body.data,
        scopes: body.scopes,
      });
      return accepted(result);
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/events/:id',
      operationId: 'getEvent',
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
      operationId: 'listEventTypes',
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
