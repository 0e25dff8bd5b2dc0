import { WorkflowIdReusePolicy } from '@temporalio/common';
import { Router } from 'express';
import type { AttemptSummary } from '../../../activities';
import { testWorkflow } from '../../../workflows/delivery';
import { workflowIds } from '../../../workflows/shared';
import type { Config } from '../../config';
import { inTransaction } from '../../db/pool';
import { getApplication } from '../../db/queries/applications';
import { getEntity } from '../../db/queries/entities';
import * as hooks from '../../db/queries/webhooks';
import { blockedReason, ipLiteral } from '../../delivery/address-policy';
import { redactHeaders } from '../../delivery/envelope';
import { canSee } from '../../delivery/filters';
import { generateSecret } from '../../delivery/signing';
import { UnprocessableError } from '../../errors';
import { newId } from '../../ids';
import { searchAttributes } from '../../temporal/search-attributes';
import { assertOwns, type Principal } from '../auth';
import type { ApiContext } from '../context';
import { routeDefiner } from '../route';
import {
  listOf,
  TestResult,
  Webhook,
  WebhookCreate,
  WebhookListQuery,
  WebhookPatch,
  WebhookWithSecret,
} from '../schemas';

/** Custom headers whose names suggest credentials are shown as `[redacted]`, as in recorded attempts. */
export const webhookView = (w: hooks.WebhookRow) => ({
  ...w,
  headers: redactHeaders(w.headers),
  createdAt: w.createdAt.toISOString(),
  updatedAt: w.updatedAt.toISOString(),
});

/**
 * An edit form sends back the headers it read, redacted ones included: a header sent as
 * `[redacted]` keeps the value it has, so saving a form never overwrites a credential with the mask.
 */
function keepRedacted(sent: Record<string, string>, stored: Record<string, string>) {
  const masked = redactHeaders(stored);
  return Object.fromEntries(
    Object.entries(sent).map(([k, v]) => [k, v === masked[k] && v !== stored[k] ? stored[k] : v]),
  );
}

/** https only unless the operator allows http; a literal blocked address is refused at once. */
export function checkWebhookUrl(raw: string, config: Config): void {
  const url = new URL(raw);
  const allowed = config.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!allowed.includes(url.protocol)) {
    throw new UnprocessableError([
      {
        path: 'body.url',
        message: config.allowHttp ? 'must be an http or https URL' : 'must be an https URL',
      },
    ]);
  }
  if (url.username || url.password) {
    throw new UnprocessableError([
      { path: 'body.url', message: 'must not carry credentials; use a custom header' },
    ]);
  }
  const literal = ipLiteral(url.hostname);
  const reason = literal && blockedReason(literal, config.allowedNetworks);
  if (reason)
    throw new UnprocessableError([{ path: 'body.url', message: `points at a blocked address: ${reason}` }]);
}

/** Loads a webhook the caller may see, or answers 404. */
export async function webhookFor(ctx: ApiContext, p: Principal, id: string): Promise<hooks.WebhookRow> {
  const webhook = await hooks.getWebhook(ctx.pool, id);
  assertOwns(p, webhook?.applicationId, `Webhook ${id}`);
  return webhook!;
}

const URL_RULES =
  "the URL's scheme is not allowed, it carries credentials, or it points at a blocked address";

export function webhooksRouter(ctx: ApiContext): Router {
  const router = Router();
  const route = routeDefiner(router, ctx.authenticate);
  const tag = 'Webhooks';
  const pause = async (webhook: hooks.WebhookRow) => (await hooks.pauseWebhook(ctx.pool, webhook.id))!;
  // The webhook and its release (through the outbox) in one commit: see hooks.resumeWebhook.
  const resume = async (webhook: hooks.WebhookRow) =>
    (await inTransaction(ctx.pool, (client) => hooks.resumeWebhook(client, webhook.id)))!;

  route(
    {
      method: 'post',
      path: '/v1/webhooks',
      operationId: 'createWebhook',
      summary: 'Create a webhook; the secret is returned once',
      tag,
      access: 'webhooks:write',
      body: WebhookCreate,
      status: 201,
      response: WebhookWithSecret,
      unprocessable: `with the admin token, applicationId is missing or names no application; ${URL_RULES}`,
      creates: { path: '/v1/webhooks/:id' },
    },
    async ({ body, principal }) => {
      let applicationId: string;
      if (principal.kind === 'key') applicationId = principal.applicationId;
      else if (body.applicationId) applicationId = body.applicationId;
      else
        throw new UnprocessableError([
          { path: 'body.applicationId', message: 'required with the admin token' },
        ]);
      if (principal.kind === 'admin' && !(await getApplication(ctx.pool, applicationId))) {
        throw new UnprocessableError([
          { path: 'body.applicationId', message: `application ${applicationId} does not exist` },
        ]);
      }
      checkWebhookUrl(body.url, ctx.config);
      const secret = body.secret ?? generateSecret();
      const webhook = await hooks.insertWebhook(ctx.pool, {
        id: newId('wh'),
        applicationId,
        label: body.label,
        url: body.url,
        method: body.method,
        events: body.events,
        signature: body.signature,
        secret: ctx.secretCipher.encrypt(secret),
        syncIntervalMs: body.syncIntervalMs,
        headers: body.headers,
        status: body.status,
        maxRequestsPerSecond: body.maxRequestsPerSecond,
        maxInFlight: body.maxInFlight,
        ordering: body.ordering,
      });
      return { ...webhookView(webhook), secret };
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/webhooks',
      operationId: 'listWebhooks',
      summary: 'List webhooks',
      tag,
      access: 'webhooks:read',
      query: WebhookListQuery,
      response: listOf(Webhook),
    },
    async ({ query, principal }) => {
      const appId = principal.kind === 'key' ? principal.applicationId : query.applicationId;
      const result = await hooks.listWebhooks(ctx.pool, appId, query.limit, query.cursor);
      return { data: result.data.map(webhookView), nextCursor: result.nextCursor };
    },
  );

  route(
    {
      method: 'get',
      path: '/v1/webhooks/:id',
      operationId: 'getWebhook',
      summary: 'Read a webhook',
      tag,
      access: 'webhooks:read',
      response: Webhook,
    },
    async ({ params, principal }) => webhookView(await webhookFor(ctx, principal, params.id)),
  );

  route(
    {
      method: 'patch',
      path: '/v1/webhooks/:id',
      operationId: 'updateWebhook',
      summary: 'Change a webhook',
      tag,
      access: 'webhooks:write',
      body: WebhookPatch,
      response: Webhook,
      unprocessable: URL_RULES,
    },
    async ({ params, body, principal }) => {
      const webhook = await webhookFor(ctx, principal, params.id);
      if (body.url) checkWebhookUrl(body.url, ctx.config);
      const { status, ...fields } = body;
      if (fields.headers) fields.headers = keepRedacted(fields.headers, webhook.headers);
      let updated = (await hooks.updateWebhook(ctx.pool, webhook.id, fields))!;
      if (status === 'paused' && updated.status === 'active') updated = await pause(updated);
      if (status === 'active' && updated.status !== 'active') updated = await resume(updated);
      return webhookView(updated);
    },
  );

  route(
    {
      method: 'delete',
      path: '/v1/webhooks/:id',
      operationId: 'deleteWebhook',
      summary: 'Delete a webhook; its unfinished deliveries are cancelled',
      tag,
      access: 'webhooks:write',
      status: 204,
    },
    async ({ params, principal, res }) => {
      const webhook = await webhookFor(ctx, principal, params.id);
      await inTransaction(ctx.pool, (client) => hooks.deleteWebhook(client, webhook.id));
      res.status(204).end();
      return undefined;
    },
  );

  route(
    {
      method: 'post',
      path: '/v1/webhooks/:id/pause',
      operationId: 'pauseWebhook',
      summary: 'Pause: new deliveries are held',
      tag,
      access: 'webhooks:write',
      response: Webhook,
    },
    async ({ params, principal }) => {
      const webhook = await webhookFor(ctx, principal, params.id);
      return webhookView(webhook.status === 'active' ? await pause(webhook) : webhook);
    },
  );

  route(
    {
      method: 'post',
      path: '/v1/webhooks/:id/resume',
      operationId: 'resumeWebhook',
      summary: 'Resume (or reactivate): held deliveries are sent oldest first',
      tag,
      access: 'webhooks:write',
      response: Webhook,
    },
    async ({ params, principal }) => webhookView(await resume(await webhookFor(ctx, principal, params.id))),
  );

  route(
    {
      method: 'post',
      path: '/v1/webhooks/:id/rotate-secret',
      operationId: 'rotateWebhookSecret',
      summary: 'New secret, returned once; the old one signs too for 24 h',
      tag,
      access: 'webhooks:write',
      response: WebhookWithSecret,
    },
    async ({ params, principal }) => {
      const webhook = await webhookFor(ctx, principal, params.id);
      const secret = generateSecret();
      await hooks.rotateSecret(ctx.pool, webhook.id, ctx.secretCipher.encrypt(secret));
      return { ...webhookView((await hooks.getWebhook(ctx.pool, webhook.id))!), secret };
    },
  );

  route(
    {
      method: 'post',
      path: '/v1/webhooks/:id/test',
      operationId: 'testWebhook',
      summary: 'Send a webhook.test event now: one attempt, answered with its result',
      tag,
      access: 'webhooks:write',
      response: TestResult,
    },
    async ({ params, principal }) => {
      const webhook = await webhookFor(ctx, principal, params.id);
      const entity = await testSubject(ctx, principal, webhook.applicationId);
      const attemptId = newId('att');
      // The test's workflow writes its event and delivery (TestDelivery): a test that never
      // started leaves nothing behind.
      const result: AttemptSummary | null = await ctx.temporal.workflow.execute(testWorkflow, {
        workflowId: workflowIds.test(webhook.id, attemptId),
        taskQueue: ctx.config.temporal.taskQueue,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        workflowExecutionTimeout: '30s',
        args: [
          {
            deliveryId: newId('dlv'),
            attemptId,
            requestTimeoutMs: ctx.config.requestTimeoutMs,
            create: {
              eventId: newId('evt'),
              webhookId: webhook.id,
              applicationId: webhook.applicationId,
              entity,
            },
          },
        ],
        typedSearchAttributes: [
          { key: searchAttributes.applicationId, value: webhook.applicationId },
          { key: searchAttributes.webhookId, value: webhook.id },
          { key: searchAttributes.eventType, value: 'webhook.test' },
        ],
      });
      const { attemptNumber: _n, ...attempt } = result!;
      return attempt;
    },
  );

  return router;
}

/** A test carries the key's subject entity when the application may see it, else the application. */
async function testSubject(ctx: ApiContext, p: Principal, applicationId: string) {
  const app = (await getApplication(ctx.pool, applicationId))!;
  if (p.kind === 'key' && p.subject) {
    const entity = await getEntity(ctx.pool, p.subject.type, p.subject.id);
    if (entity && !entity.deletedAt && canSee(app.access, entity)) {
      return { type: entity.type, id: entity.id, data: entity.data as Record<string, unknown> };
    }
  }
  return { type: 'application', id: app.id, data: { id: app.id, name: app.name } };
}
