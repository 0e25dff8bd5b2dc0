import { Router } from 'express';
import { inTransaction } from '../../db/pool';
import {
  deleteEntity,
  type EntityRow,
  getEntity,
  listEntities,
  upsertEntity,
} from '../../db/queries/entities';
import { insertEventWithDeliveries, type PublishResult } from '../../db/queries/events';
import { NotFoundError } from '../../errors';
import type { ApiContext } from '../context';
import { routeDefiner } from '../route';
import { Entity, EntityChanged, EntityParams, EntityPut, ListQuery, listOf } from '../schemas';
import { accepted } from './events';

export const entityView = (e: EntityRow) => ({
  type: e.type,
  id: e.id,
  scopes: e.scopes,
  data: e.data,
  version: e.version,
  createdAt: e.createdAt.toISOString(),
  updatedAt: e.updatedAt.toISOString(),
});

/** Herald's mirror of the host system's entities; every change emits `<type>.<action>`. */
export function entitiesRouter(ctx: ApiContext): Router {
  const router = Router();
  const route = routeDefiner(router, ctx.authenticate);
  const tag = 'Entities';

  route(
    {
      method: 'put',
      path: '/v1/entities/:type/:id',
      operationId: 'upsertEntity',
      summary:
        'Upsert an entity; emits <type>.created or <type>.updated when it changed (an unchanged one: the stored entity, event null)',
      tag,
      access: 'entities:write',
      params: EntityParams,
      body: EntityPut,
      response: EntityChanged,
      creates: { path: '/v1/entities/:type/:id' },
    },
    async ({ params: { type, id }, body }) => {
      const outcome = await inTransaction(ctx.pool, async (client) => {
        const change = await upsertEntity(client, { type, id, data: body.data, scopes: body.scopes });
        // An upsert repeated is answered as the first one was, with the entity, but emits nothing.
        if (!change) return { entity: (await getEntity(client, type, id))!, event: null };
        const event = await insertEventWithDeliveries(client, {
          type: `${type}.${change.action}`,
          action: change.action,
          entityType: type,
          entityId: id,
          data: body.data,
          scopes: body.scopes,
        });
        return { entity: change.entity, event };
      });
      return {
        entity: entityView(outcome.entity),
        event: outcome.event ? accepted(outcome.event) : null,
      };
    },
  );

  route(
    {
      method: 'delete',
      path: '/v1/entities/:type/:id',
      operationId: 'deleteEntity',
      summary: 'Delete an entity; emits <type>.deleted with its last data',
      tag,
      access: 'entities:write',
      params: EntityParams,
      response: EntityChanged,
    },
    async ({ params: { type, id } }) => {
      const event: PublishResult = await inTransaction(ctx.pool, async (client) => {
        const gone = await deleteEntity(client, type, id);
        if (!gone) throw new NotFoundError(`Entity ${type}/${id}`);
        return insertEventWithDeliveries(client, {
          type: `${type}.deleted`,
          action: 'deleted',
          entityType: type,
          entityId: id,
          data: gone.data as Record<string, unknown>,
          scopes: gone.scopes,
        });
      });
      return { entity: null, event: accepted(event) };
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/entities/:type/:id',
      operationId: 'getEntity',
      summary: 'Read an entity: its latest data and scopes',
      tag,
      access: 'admin',
      params: EntityParams,
      response: Entity,
    },
    async ({ params: { type, id } }) => {
      const entity = await getEntity(ctx.pool, type, id);
      if (!entity || entity.deletedAt) throw new NotFoundError(`Entity ${type}/${id}`);
      return entityView(entity);
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/entities/:type',
      operationId: 'listEntities',
      summary: 'List entities of a type, by id',
      tag,
      access: 'admin',
      params: { type: EntityParams.type },
      query: ListQuery,
      response: listOf(Entity),
    },
    async ({ params: { type }, query }) => {
      const result = await listEntities(ctx.pool, type, query.limit, query.cursor);
      return { data: result.data.map(entityView), nextCursor: result.nextCursor };
    },
  );
  return router;
}
