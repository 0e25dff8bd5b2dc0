import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import * as apps from '../../db/queries/applications';
import { NotFoundError } from '../../errors';
import { newId } from '../../ids';
import { hashToken } from '../auth';
import type { ApiContext } from '../context';
import { routeDefiner } from '../route';
import {
  Application,
  ApplicationCreate,
  ApplicationPatch,
  Key,
  KeyCreate,
  KeyWithToken,
  ListQuery,
  listOf,
} from '../schemas';

const view = (a: apps.ApplicationRow) => ({
  ...a,
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
});
const keyView = (k: apps.KeyRow) => ({ ...k, createdAt: k.createdAt.toISOString() });

/** Applications and their API keys: admin only. */
export function applicationsRouter(ctx: ApiContext): Router {
  const router = Router();
  const route = routeDefiner(router, ctx.authenticate);
  const tag = 'Applications';
  const requireApp = async (id: string) => {
    const app = await apps.getApplication(ctx.pool, id);
    if (!app) throw new NotFoundError(`Application ${id}`);
    return app;
  };

  route(
    {
      method: 'post',
      path: '/v1/applications',
      operationId: 'createApplication',
      summary: 'Create an application',
      tag,
      access: 'admin',
      body: ApplicationCreate,
      status: 201,
      response: Application,
      creates: { path: '/v1/applications/:appId', field: 'applicationId' },
    },
    async ({ body }) => view(await apps.insertApplication(ctx.pool, { id: newId('app'), ...body })),
  );
  route(
    {
      method: 'get',
      path: '/v1/applications',
      operationId: 'listApplications',
      summary: 'List applications',
      tag,
      access: 'admin',
      query: ListQuery,
      response: listOf(Application),
    },
    async ({ query }) => {
      const result = await apps.listApplications(ctx.pool, query.limit, query.cursor);
      return { data: result.data.map(view), nextCursor: result.nextCursor };
    },
  );
  route(
    {
      method: 'get',
      path: '/v1/applications/:appId',
      operationId: 'getApplication',
      summary: 'Read an application',
      tag,
      access: 'admin',
      response: Application,
    },
    async ({ params }) => view(await requireApp(params.appId)),
  );
  route(
    {
      method: 'patch',
      path: '/v1/applications/:appId',
      operationId: 'updateApplication',
      summary: 'Change an application',
      tag,
      access: 'admin',
      body: ApplicationPatch,
      response: Application,
    },
    async ({ params, body }) => {
      const app = await apps.updateApplication(ctx.pool, params.appId, body);
      if (!app) throw new NotFoundError(`Application ${params.appId}`);
      return view(app);
    },
  );
  route(
    {
      method: 'delete',
      path: '/v1/applications/:appId',
      operationId: 'deleteApplication',
      summary: 'Delete an application with its keys and webhooks',
      tag,
      access: 'admin',
      status: 204,
    },
    async ({ params, res }) => {
      if (!(await apps.deleteApplication(ctx.pool, params.appId)))
        throw new NotFoundError(`Application ${params.appId}`);
      ctx.authenticate.forget({ applicationId: params.appId });
      res.status(204).end();
      return undefined;
    },
  );

  route(
    {
      method: 'post',
      path: '/v1/applications/:appId/keys',
      operationId: 'createKey',
      summary: 'Create an API key; the token is shown once',
      tag,
      access: 'admin',
      body: KeyCreate,
      status: 201,
      response: KeyWithToken,
      creates: { path: '/v1/applications/:appId/keys/:keyId' },
    },
    async ({ params, body }) => {
      await requireApp(params.appId);
      const token = `hk_${randomBytes(32).toString('base64url')}`;
      const key = await apps.insertKey(ctx.pool, {
        id: newId('key'),
        applicationId: params.appId,
        name: body.name,
        scopes: body.scopes,
        subject: body.subject ?? null,
        tokenHash: hashToken(token),
        tokenHint: `${token.slice(0, 7)}…${token.slice(-4)}`,
      });
      return { ...keyView(key), token };
    },
  );
  route(
    {
      method: 'get',
      path: '/v1/applications/:appId/keys',
      operationId: 'listKeys',
      summary: 'List API keys (never their tokens)',
      tag,
      access: 'admin',
      query: ListQuery,
      response: listOf(Key),
    },
    async ({ params, query }) => {
      await requireApp(params.appId);
      const result = await apps.listKeys(ctx.pool, params.appId, query.limit, query.cursor);
      return { data: result.data.map(keyView), nextCursor: result.nextCursor };
    },
  );
  route(
    {
      method: 'delete',
      path: '/v1/applications/:appId/keys/:keyId',
      operationId: 'revokeKey',
      summary: 'Revoke an API key',
      tag,
      access: 'admin',
      status: 204,
    },
    async ({ params, res }) => {
      if (!(await apps.revokeKey(ctx.pool, params.appId, params.keyId)))
        throw new NotFoundError(`Key ${params.keyId}`);
      ctx.authenticate.forget({ keyId: params.keyId });
      res.status(204).end();
      return undefined;
    },
  );
  return router;
}
