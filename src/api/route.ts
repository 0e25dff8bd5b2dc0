import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import { type Access, type Principal, requireAccess } from './auth';
import { type Creates, registerRoute } from './openapi';
import { zodToHttpError } from './problem';
import type { RateLimit } from './rate-limit';
import { PathId, ProblemSchema } from './schemas';

/** What createApp leaves in `app.locals` for every route. */
export interface AppLocals {
  rateLimit?: RateLimit;
}

export interface RouteSpec<B extends z.ZodType | undefined, Q extends z.ZodType | undefined> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express syntax (`/v1/webhooks/:id`); the OpenAPI path is derived from it. */
  path: string;
  /** The operation's name in the OpenAPI document and in its links: unique, stable, camelCase. */
  operationId: string;
  summary: string;
  tag: string;
  access: Access;
  /** Schemas of the path parameters; one not named here is a PathId. */
  params?: Record<string, z.ZodType<string>>;
  body?: B;
  query?: Q;
  status?: number;
  response?: z.ZodType;
  responseDescription?: string;
  /** When the route answers 409 (documented with these words). */
  conflict?: string;
  /** When the route answers 422: the rules of the request its schema cannot state. */
  unprocessable?: string;
  /** When the route answers 503 beyond the database being down (a workflow that does not answer). */
  unavailable?: string;
  /** The resource the route creates, for the document's links (openapi.ts). */
  creates?: Creates;
}

export interface RouteInput<B, Q> {
  body: B;
  query: Q;
  params: Record<string, string>;
  principal: Principal;
  req: Request;
  res: Response;
}

type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;

/**
 * Declares one route: it authenticates, checks access, validates body and query with zod, sends
 * the handler's result as JSON, and registers the same schemas in the OpenAPI document.
 * A handler that answers by itself (a stream) returns undefined.
 */
export function routeDefiner(router: Router, authenticate: (req: Request) => Promise<Principal>) {
  return <B extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined>(
    spec: RouteSpec<B, Q>,
    handler: (input: RouteInput<Infer<B>, Infer<Q>>) => Promise<unknown>,
  ) => defineRoute(router, authenticate, spec, handler);
}

const problem = (when: string) => ({
  description: `Problem: ${when}`,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

function defineRoute<B extends z.ZodType | undefined, Q extends z.ZodType | undefined>(
  router: Router,
  authenticate: (req: Request) => Promise<Principal>,
  spec: RouteSpec<B, Q>,
  handler: (input: RouteInput<Infer<B>, Infer<Q>>) => Promise<unknown>,
): void {
  const status = spec.status ?? 200;
  const openApiPath = spec.path.replace(/:(\w+)/g, '{$1}');
  const pathParams = [...spec.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
  const params = z.object(Object.fromEntries(pathParams.map((p) => [p, spec.params?.[p] ?? PathId])));
  const hasBody = ['post', 'put', 'patch'].includes(spec.method);
  registerRoute(
    {
      method: spec.method,
      path: openApiPath,
      operationId: spec.operationId,
      summary: spec.summary,
      tags: [spec.tag],
      request: {
        ...(spec.body
          ? { body: { content: { 'application/json': { schema: spec.body } }, required: true } }
          : {}),
        ...(spec.query ? { query: spec.query as unknown as z.ZodObject } : {}),
        ...(pathParams.length ? { params } : {}),
      },
      responses: {
        [status]: spec.response
          ? {
              description: spec.responseDescription ?? 'OK',
              content: { 'application/json': { schema: spec.response } },
            }
          : { description: spec.responseDescription ?? 'OK' },
        // Every status the route can answer, derived from what the route is: the statuses of the
        // middleware and the error handler (problem.ts) as well as the handler's own.
        400: problem('the request does not match this document (`errors` names each field)'),
        401: problem('no valid bearer token'),
        ...(spec.access === 'any' ? {} : { 403: problem('the token may not call this route') }),
        ...(pathParams.length ? { 404: problem('no such resource, or none the token may see') } : {}),
        ...(spec.conflict ? { 409: problem(spec.conflict) } : {}),
        ...(hasBody
          ? {
              413: problem(
                'the body is larger than HERALD_MAX_PAYLOAD_BYTES (a batch: HERALD_MAX_BATCH_BYTES)',
              ),
              415: problem('the body is not UTF-8 application/json'),
            }
          : {}),
        ...(spec.unprocessable ? { 422: problem(spec.unprocessable) } : {}),
        429: problem(
          'the key is over its rate limit, or its address sent too many tokens that are not valid; see Retry-After',
        ),
        503: problem(
          `the database is unavailable${spec.unavailable ? `, or ${spec.unavailable}` : ''}; see Retry-After`,
        ),
      },
    },
    { expressPath: spec.path, status, creates: spec.creates },
  );

  const wrapped: RequestHandler = async (req, res) => {
    const principal = await authenticate(req);
    // Once the caller is known, before anything else is spent on it: even refusals count.
    await (req.app.locals as AppLocals).rateLimit?.(principal);
    requireAccess(principal, spec.access);
    const path = params.safeParse(req.params);
    if (!path.success) throw zodToHttpError(path.error, 'path');
    let body: unknown;
    if (spec.body) {
      const parsed = spec.body.safeParse(req.body ?? {});
      if (!parsed.success) throw zodToHttpError(parsed.error, 'body');
      body = parsed.data;
    }
    let query: unknown;
    if (spec.query) {
      const parsed = spec.query.safeParse(req.query);
      if (!parsed.success) throw zodToHttpError(parsed.error, 'query');
      query = parsed.data;
    }
    const result = await handler({
      body: body as Infer<B>,
      query: query as Infer<Q>,
      params: path.data as Record<string, string>,
      principal,
      req,
      res,
    });
    if (result === undefined) return;
    res.status(status).json(result);
  };
  router[spec.method](spec.path, wrapped);
}
