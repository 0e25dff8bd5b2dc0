import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';

/** `ui/dist` of the project: found from here both under tsx (src/ui) and compiled (dist/src/ui). */
export function defaultUiDir(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'ui', 'dist');
}

/** The panel loads nothing but its own bundle and talks to nothing but this API. */
const CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The paths the panel routes itself; anything else unmatched stays a problem+json 404. */
const PANEL_PATHS = /^\/((webhooks|admin)(\/.*)?)?$/;

/**
 * Serves the admin panel built by `npm run build:ui`: hashed assets cached for a year, index.html
 * (never cached) for `/` and the panel's own paths. Without a build, those answer 503 saying so.
 */
export function uiRouter(dir = defaultUiDir()): Router {
  const router = express.Router();
  const index = path.join(dir, 'index.html');
  router.use(
    '/assets',
    express.static(path.join(dir, 'assets'), {
      index: false,
      redirect: false,
      immutable: true,
      maxAge: '365d',
    }),
  );
  router.get(PANEL_PATHS, (_req, res) => {
    if (!existsSync(index)) {
      res
        .status(503)
        .type('text/plain')
        .send('The admin panel is not built: run `npm run build:ui`, then reload.\n');
      return;
    }
    res.set({
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy': CSP,
    });
    res.sendFile(index);
  });
  return router;
}
