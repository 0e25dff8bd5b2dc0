import { Router } from 'express';
import { z } from 'zod';
import {
  getEvent,
  listEvents,
  listEventTypes,
  type PublishResult,
  publishBatch,
} from '../../db/queries/events';
import { type FieldError, NotFoundError, UnprocessableError } from '../../errors';
import { newId } from '../../ids';
import { eventDeliveriesFor } from '../auth';
import type { ApiContext } from '../context';
import { createPublishQueue } from '../publish-queue';
import { routeDefiner } from '../route';
import {
  Event,
  EventAccepted,
  EventBatch,
  EventBatchAccepted,
  EventListQuery,
  EventPublish,
  EventType,
  listOf,
} from '../schemas';

export const accepted = (r: PublishResult) => ({
  id: r.id,
  deliveries: r.deliveries.map((d) => ({ id: d.id, webhookId: d.webhookId, status: d.status })),
});

/** The rule of an event its schema cannot state: its type names its entity's type. */
function eventRuleErrors(e: z.infer<typeof EventPublish>, at: string): FieldError[] {
  return e.type.split('.')[0] === e.entity.type
    ? []
    : [{ path: `${at}.type`, message: `must start with the entity type "${e.entity.type}."` }];
}

/** An event as the publish queries take it; without an id, a new one. */
function newEvent(body: z.infer<typeof EventPublish>) {
  return {
    id: body.id ?? newId('evt'),
    type: body.type,
    action: body.type.split('.')[1],
    entityType: body.entity.type,
    entityId: body.entity.id,
    data: body.data,
    scopes: body.scopes,
  };
}

export function eventsRouter(ctx: ApiContext): Router {
  const router = Router();
  const route = routeDefiner(router, ctx.authenticate);
  const tag = 'Events';
  const publish = createPublishQueue(ctx.pool);

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
      const errors = eventRuleErrors(body, 'body');
      if (errors.length) throw new UnprocessableError(errors);
      return accepted(await publish(newEvent(body)));
    },
  );

  route(
    {
      method: 'post',
      path: '/v1/events/batch',
      operationId: 'publishEventBatch',
      summary:
        'Publish up to 500 events in one transaction: all of them, in order, or none (400 or 422 naming each refused one by its index)',
      tag,
      access: 'events:publish',
      body: EventBatch,
      status: 202,
      response: EventBatchAccepted,
      unprocessable:
        'an event type does not start with its entity type, or an event is larger than HERALD_MAX_PAYLOAD_BYTES',
    },
    async ({ body }) => {
      // Each event within the limit a single publish has, so a batch cannot carry a larger one.
      const errors = body.events.flatMap((e, i) => [
        ...eventRuleErrors(e, `body.events.${i}`),
        ...(Buffer.byteLength(JSON.stringify(e)) > ctx.config.maxPayloadBytes
          ? [{ path: `body.events.${i}`, message: `larger than ${ctx.config.maxPayloadBytes} bytes` }]
          : []),
      ]);
      if (errors.length)
        throw new UnprocessableError(errors, `${errors.length} event(s) cannot be published.`);
      const results = await publishBatch(ctx.pool, body.events.map(newEvent));
      return {
        data: results.map((r, index) => ({
          index,
          status: r.duplicate ? ('duplicate' as const) : ('accepted' as const),
          ...accepted(r),
        })),
      };
    },
  );

  const view = (event: NonNullable<Awaited<ReturnType<typeof getEvent>>>) => ({
    id: event.id,
    type: event.type,
    action: event.action,
    entity: { type: event.entityType, id: event.entityId },
    data: event.data,
    createdAt: event.createdAt.toISOString(),
    deliveries: event.deliveries.map((d) => ({ id: d.id, webhookId: d.webhookId, status: d.status })),
  });

  route(
    {
      method: 'get',
      path: '/v1/events',
      operationId: 'listEvents',
      summary:
        'The latest events, newest first, each with its deliveries; by type, entity type and entity id',
      tag,
      access: 'events:publish',
      query: EventListQuery,
      response: listOf(Event),
    },
    async ({ query }) => {
      const { data, nextCursor } = await listEvents(
        ctx.pool,
        { type: query.type, entityType: query.entityType, entityId: query.entityId },
        query.limit,
        query.cursor,
      );
      return { data: data.map(view), nextCursor };
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/events/:id',
      operationId: 'getEvent',
      summary:
        'Read an event and its deliveries (an application key: only an event delivered to it, with its own deliveries)',
      tag,
      access: ['events:publish', 'deliveries:read'],
      response: Event,
    },
    async ({ params, principal }) => {
      const event = await getEvent(ctx.pool, params.id);
      const deliveries = event && eventDeliveriesFor(principal, event.deliveries);
      if (!event || !deliveries) throw new NotFoundError(`Event ${params.id}`);
      return view({ ...event, deliveries });
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
