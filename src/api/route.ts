import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import { type Access, type Principal, requireAccess } from './auth';
import { registerPath } from './openapi';
import { zodToHttpError } from './problem';
import type { RateLimit } from './rate-limit';
import { ProblemSchema } from './schemas';

/** What createApp leaves in `app.locals` for every route. */
export interface AppLocals {
  rateLimit?: RateLimit;
}

export interface RouteSpec<B extends z.ZodType | undefined, Q extends z.ZodType | undefined> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express syntax (`/v1/webhooks/:id`); the OpenAPI path is derived from it. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  body?: B;
  query?: Q;
  status?: number;
  response?: z.ZodType;
  responseDescription?: string;
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

function defineRoute<B extends z.ZodType | undefined, Q extends z.ZodType | undefined>(
  router: Router,
  authenticate: (req: Request) => Promise<Principal>,
  spec: RouteSpec<B, Q>,
  handler: (input: RouteInput<Infer<B>, Infer<Q>>) => Promise<unknown>,
): void {
  const status = spec.status ?? 200;
  const openApiPath = spec.path.replace(/:(\w+)/g, '{$1}');
  const pathParams = [...spec.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
  const problem = {
    description: 'Problem',
    content: { 'application/problem+json': { schema: ProblemSchema } },
  };
  registerPath({
    method: spec.method,
    path: openApiPath,
    summary: spec.summary,
    tags: [spec.tag],
    request: {
      ...(spec.body
        ? { body: { content: { 'application/json': { schema: spec.body } }, required: true } }
        : {}),
      ...(spec.query ? { query: spec.query as unknown as z.ZodObject } : {}),
      ...(pathParams.length
        ? {
            params: z.object(Object.fromEntries(pathParams.map((p) => [p, z.string()]))),
          }
        : {}),
    },
    responses: {
      [status]: spec.response
        ? {
            description: spec.responseDescription ?? 'OK',
            content: { 'application/json': { schema: spec.response } },
          }
        : { description: spec.responseDescription ?? 'OK' },
      400: problem,
      401: problem,
      403: problem,
      404: problem,
      429: {
        ...problem,
        description:
          'Problem: the key is over its rate limit, or its address sent too many tokens that are not valid; see Retry-After',
      },
    },
  });

  const wrapped: RequestHandler = async (req, res) => {
    const principal = await authenticate(req);
    // Once the caller is known, before anything else is spent on it: even refusals count.
    await (req.app.locals as AppLocals).rateLimit?.(principal);
    requireAccess(principal, spec.access);
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
      params: req.params as Record<string, string>,
      principal,
      req,
      res,
    });
    if (result === undefined) return;
    res.status(status).json(result);
  };
  router[spec.method](spec.path, wrapped);
}
