import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { VERSION } from '../version';
import { JSON_VALUE_DOCUMENT } from './schemas';

/**
 * The OpenAPI document is built from the same route table that validates requests (see route.ts),
 * so it cannot drift from what the API accepts. The table also answers which methods a path has
 * (405 with Allow for the others).
 */

/** What a create (or upsert) route makes, so the document links it to what acts on the result. */
export interface Creates {
  /**
   * The created resource's path in Express syntax (`/v1/syncs/:syncId`): every operation on it or
   * below it is linked, its last parameter taken from the answer's `id` (the route's own path
   * parameters from the request). An upsert names its own path: all its parameters are the request's.
   */
  path: string;
  /** The body field other operations name the created resource by (`applicationId`): they are linked too. */
  field?: string;
}

interface RouteMeta {
  expressPath: string;
  /** The status of its success answer, whose response carries the links. */
  status: number;
  creates?: Creates;
}

interface Route extends RouteMeta {
  config: RouteConfig & { operationId: string };
  pattern: RegExp;
}

const routes = new Map<string, Route>();

/** A path in Express syntax as a regex of the URLs it matches, as Express matches them. */
function pathPattern(expressPath: string): RegExp {
  const escaped = expressPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+');
  return new RegExp(`^${escaped}/?$`, 'i');
}

export function registerRoute(config: RouteConfig & { operationId: string }, meta: RouteMeta): void {
  const key = `${config.method} ${config.path}`;
  // createApp runs once per API in a process (tests start many): the table is the same each time.
  if (routes.has(key)) return;
  for (const route of routes.values()) {
    if (route.config.operationId === config.operationId)
      throw new Error(
        `operationId ${config.operationId} is used by ${route.config.method} ${route.config.path} too`,
      );
  }
  routes.set(key, { config, ...meta, pattern: pathPattern(meta.expressPath) });
}

/**
 * The methods a path is declared with (HEAD with GET, as Express answers it), or undefined for an
 * unknown path. A concrete path comes before a templated one that also matches it, as OpenAPI
 * matches them: `/v1/events/batch` has POST only, though `/v1/events/{id}` has GET.
 */
export function allowedMethods(urlPath: string): string[] | undefined {
  const matching = [...routes.values()].filter((r) => r.pattern.test(urlPath));
  const concrete = matching.filter((r) => !r.expressPath.includes(':'));
  const methods = (concrete.length ? concrete : matching).map((r) => r.config.method.toUpperCase());
  if (methods.length === 0) return undefined;
  return methods.includes('GET') ? [...methods, 'HEAD'] : methods;
}

const paramsOf = (openApiPath: string) => [...openApiPath.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);

function bodyFields(config: RouteConfig): string[] {
  const media = config.request?.body?.content['application/json'];
  const schema = media && 'schema' in media ? media.schema : undefined;
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** OpenAPI links from a create to every operation its answer's id (or its request's ids) can fill. */
function linksOf(source: Route, all: Route[]) {
  const creates = source.creates!;
  const resource = creates.path.replace(/:(\w+)/g, '{$1}');
  const resourceParams = paramsOf(resource);
  const created = resourceParams[resourceParams.length - 1];
  const sameResource = source.config.path === resource || source.config.path.startsWith(`${resource}/`);
  const sourceParams = new Set(paramsOf(source.config.path));
  const links: Record<
    string,
    { operationId: string; parameters?: Record<string, string>; requestBody?: unknown }
  > = {};
  for (const target of all) {
    if (target === source) continue;
    const targetPath = target.config.path;
    if (targetPath === resource || targetPath.startsWith(`${resource}/`)) {
      const parameters: Record<string, string> = {};
      let fillable = true;
      for (const p of paramsOf(targetPath)) {
        if (!sameResource && p === created) parameters[p] = '$response.body#/id';
        else if (sourceParams.has(p)) parameters[p] = `$request.path.${p}`;
        else fillable = false;
      }
      if (fillable) links[target.config.operationId] = { operationId: target.config.operationId, parameters };
    } else if (
      creates.field &&
      bodyFields(target.config).includes(creates.field) &&
      paramsOf(targetPath).length === 0
    ) {
      links[target.config.operationId] = {
        operationId: target.config.operationId,
        requestBody: { [creates.field]: '$response.body#/id' },
      };
    }
  }
  return links;
}

export function openApiDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  registry.registerComponent('schemas', 'JsonValue', JSON_VALUE_DOCUMENT);
  const all = [...routes.values()];
  for (const route of all) {
    let config = route.config;
    if (route.creates) {
      const success = config.responses[route.status];
      config = {
        ...config,
        responses: { ...config.responses, [route.status]: { ...success, links: linksOf(route, all) } },
      };
    }
    registry.registerPath(config);
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Herald API',
      version: VERSION,
      description: 'Durable webhook delivery on Temporal. Errors are application/problem+json (RFC 9457).',
    },
    security: [{ bearer: [] }],
  });
}
