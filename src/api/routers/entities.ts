import { Router } from 'express';
import { z } from 'zod';
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
import { zodToHttpError } from '../problem';
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

const params = z.object(EntityParams);
function entityParams(raw: Record<string, string>) {
  const parsed = params.safeParse(raw);
  if (!parsed.success) throw zodToHttpError(parsed.error, 'path');
  return parsed.data;
}

/** Herald's mirror of the host system's entities; every change emits `<type>.<action>`. */
export function entitiesRouter(ctx: ApiContext): Router {
  const router = Router();
  const route = routeDefiner(router, ctx.authenticate);
  const tag = 'Entities';

  route(
    {
      method: 'put',
      path: '/v1/entities/:type/:id',
      summary: 'Upsert an entity; emits <type>.created or <type>.updated when it changed',
      tag,
      access: 'events:publish',
      body: EntityPut,
      response: EntityChanged,
    },
    async ({ params: raw, body }) => {
      const { type, id } = entityParams(raw);
      const outcome = await inTransaction(ctx.pool, async (client) => {
        const change = await upsertEntity(client, { type, id, data: body.data, scopes: body.scopes });
        if (!change) return undefined;
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
      if (!outcome) return { entity: null, event: null };
      return { entity: entityView(outcome.entity), event: accepted(outcome.event) };
    },
  );

  route(
    {
      method: 'delete',
      path: '/v1/entities/:type/:id',
      summary: 'Delete an entity; emits <type>.deleted with its last data',
      tag,
      access: 'events:publish',
      response: EntityChanged,
    },
    async ({ params: raw }) => {
      const { type, id } = entityParams(raw);
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
      summary: 'Read an entity: its latest data and scopes',
      tag,
      access: 'admin',
      response: Entity,
    },
    async ({ params: raw }) => {
      const { type, id } = entityParams(raw);
      const entity = await getEntity(ctx.pool, type, id);
      if (!entity || entity.deletedAt) throw new NotFoundError(`Entity ${type}/${id}`);
      return entityView(entity);
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/entities/:type',
      summary: 'List entities of a type, by id',
      tag,
      access: 'admin',
      query: ListQuery,
      response: listOf(Entity),
    },
    async ({ params: raw, query }) => {
      const type = EntityParams.type.safeParse(raw.type);
      if (!type.success) throw zodToHttpError(type.error, 'path.type');
      const result = await listEntities(ctx.pool, type.data, query.limit, query.cursor);
      return { data: result.data.map(entityView), nextCursor: result.nextCursor };
    },
  );
  return router;
}
