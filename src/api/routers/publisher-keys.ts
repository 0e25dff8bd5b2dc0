import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import * as publishers from '../../db/queries/publisher-keys';
import { NotFoundError } from '../../errors';
import { newId } from '../../ids';
import { hashToken } from '../auth';
import type { ApiContext } from '../context';
import { routeDefiner } from '../route';
import { ListQuery, listOf, PublisherKey, PublisherKeyCreate, PublisherKeyWithToken } from '../schemas';

const view = (k: publishers.PublisherKeyRow) => ({ ...k, createdAt: k.createdAt.toISOString() });

/** The host system's credentials to publish (events, entity changes): admin only, attached to no application. */
export function publisherKeysRouter(ctx: ApiContext): Router {
  const router = Router();
  const route = routeDefiner(router, ctx.authenticate);
  const tag = 'Publisher keys';

  route(
    {
      method: 'post',
      path: '/v1/publisher-keys',
      operationId: 'createPublisherKey',
      summary: 'Create a publisher key; the token is shown once',
      tag,
      access: 'admin',
      body: PublisherKeyCreate,
      status: 201,
      response: PublisherKeyWithToken,
      creates: { path: '/v1/publisher-keys/:keyId' },
    },
    async ({ body }) => {
      const token = `hpk_${randomBytes(32).toString('base64url')}`;
      const key = await publishers.insertPublisherKey(ctx.pool, {
        id: newId('pkey'),
        name: body.name,
        scopes: body.scopes,
        tokenHash: hashToken(token),
        tokenHint: `${token.slice(0, 8)}…${token.slice(-4)}`,
      });
      return { ...view(key), token };
    },
  );
  route(
    {
      method: 'get',
      path: '/v1/publisher-keys',
      operationId: 'listPublisherKeys',
      summary: 'List publisher keys (never their tokens)',
      tag,
      access: 'admin',
      query: ListQuery,
      response: listOf(PublisherKey),
    },
    async ({ query }) => {
      const result = await publishers.listPublisherKeys(ctx.pool, query.limit, query.cursor);
      return { data: result.data.map(view), nextCursor: result.nextCursor };
    },
  );
  route(
    {
      method: 'delete',
      path: '/v1/publisher-keys/:keyId',
      operationId: 'revokePublisherKey',
      summary: 'Revoke a publisher key',
      tag,
      access: 'admin',
      status: 204,
    },
    async ({ params, res }) => {
      if (!(await publishers.revokePublisherKey(ctx.pool, params.keyId)))
        throw new NotFoundError(`Publisher key ${params.keyId}`);
      ctx.authenticate.forget({ keyId: params.keyId });
      res.status(204).end();
      return undefined;
    },
  );
  return router;
}
