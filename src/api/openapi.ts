import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { VERSION } from '../version';

/**
 * The OpenAPI document is built from the same route table that validates requests (see route.ts),
 * so it cannot drift from what the API accepts.
 */
const registry = new OpenAPIRegistry();
const registered = new Set<string>();

registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

export function registerPath(config: RouteConfig): void {
  const key = `${config.method} ${config.path}`;
  if (registered.has(key)) return;
  registered.add(key);
  registry.registerPath(config);
}

export function openApiDocument() {
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
