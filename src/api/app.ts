import express, { type RequestHandler } from 'express';
import swaggerUi from 'swagger-ui-express';
import { HttpError } from '../errors';
import { uiRouter } from '../ui/serve';
import type { ApiContext } from './context';
import { openApiDocument } from './openapi';
import { errorHandler, methodNotAllowedHandler, notFoundHandler, optionsHandler } from './problem';
import { createRateLimiter } from './rate-limit';
import { requestLog } from './request-log';
import type { AppLocals } from './route';
import { applicationsRouter } from './routers/applications';
import { deliveriesRouter } from './routers/deliveries';
import { entitiesRouter } from './routers/entities';
import { eventsRouter } from './routers/events';
import { healthRouter } from './routers/health';
import { publisherKeysRouter } from './routers/publisher-keys';
import { recoveriesRouter } from './routers/recoveries';
import { syncsRouter } from './routers/syncs';
import { webhooksRouter } from './routers/webhooks';

/** A body on a write must be JSON: anything else is 415, before parsing. */
const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && ['POST', 'PUT', 'PATCH'].includes(req.method) && !req.is('application/json')) {
    return next(new HttpError(415, 'Unsupported media type', 'Send the body as application/json.'));
  }
  next();
};

export function createApp(ctx: ApiContext) {
  const app = express();
  app.disable('x-powered-by');
  // Per-key rate limit, applied by every route once it knows the caller (route.ts).
  (app.locals as AppLocals).rateLimit = createRateLimiter(ctx.config.rateLimit);
  app.set('etag', false);
  app.use(requestLog(ctx.logger, ctx.metrics.httpRequests));
  app.use(healthRouter(ctx));
  // The methods of the API's paths are known before any body is read or any router runs.
  app.use(optionsHandler, methodNotAllowedHandler);
  app.use(requireJson);
  // A batch of events has a limit of its own (each event in it still has the single one).
  app.use('/v1/events/batch', express.json({ limit: ctx.config.maxBatchBytes, strict: true }));
  app.use(express.json({ limit: ctx.config.maxPayloadBytes, strict: true }));

  app.use(applicationsRouter(ctx));
  app.use(publisherKeysRouter(ctx));
  app.use(webhooksRouter(ctx));
  app.use(deliveriesRouter(ctx));
  app.use(eventsRouter(ctx));
  app.use(entitiesRouter(ctx));
  app.use(syncsRouter(ctx));
  app.use(recoveriesRouter(ctx));

  const document = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(document));
  app.use(uiRouter());
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.logger));
  return app;
}
