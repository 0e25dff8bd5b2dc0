import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { DatabaseError } from 'pg';
import { ZodError } from 'zod';
import { HttpError } from '../errors';
import type { Logger } from '../logger';
import { allowedMethods } from './openapi';

/** The one place that turns errors into RFC 9457 problem+json responses. */
export function sendProblem(res: Response, err: HttpError): void {
  if (err.headers) res.set(err.headers);
  res
    .status(err.status)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: `https://herald.dev/problems/${err.status}`,
        title: err.title,
        status: err.status,
        detail: err.message,
        ...(err.errors ? { errors: err.errors } : {}),
      }),
    );
}

export function zodToHttpError(err: ZodError, where: string): HttpError {
  const errors = err.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
  return new HttpError(400, 'Invalid request', `${errors.length} field(s) are not valid.`, errors);
}

// Connection-level Postgres failures: the database is down or restarting, not the request's fault.
// A pooled client whose connection dropped between two queries says "... is not queryable".
const DB_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  '57P01',
  '57P02',
  '57P03',
  '08006',
  '08001',
  '08003',
]);

function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof ZodError) return zodToHttpError(err, 'body');
  const e = err as { type?: string; status?: number; code?: string; message?: string; syscall?: string };
  // body-parser's errors carry a `type`.
  if (e.type === 'entity.too.large')
    return new HttpError(413, 'Payload too large', 'The request body is larger than allowed.');
  if (e.type === 'entity.parse.failed')
    return new HttpError(400, 'Invalid JSON', 'The request body is not valid JSON.');
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
    return new HttpError(415, 'Unsupported media type', 'Send the body as UTF-8 JSON.');
  if (e.type === 'request.aborted')
    return new HttpError(400, 'Request aborted', 'The client aborted the request.');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
    return new HttpError(e.status, 'Bad request', e.message ?? 'Bad request');
  // SQLSTATE class 22 (data exception): a value from the request that PostgreSQL cannot take, such
  // as a NUL character or an unpaired surrogate. Every query is parameterised, so it is the input's.
  if (err instanceof DatabaseError && err.code?.startsWith('22'))
    return new HttpError(
      400,
      'Invalid request',
      'A value in the request cannot be stored (for example a NUL character or an unpaired surrogate).',
    );
  if (
    (e.code && DB_UNAVAILABLE.has(e.code)) ||
    // Over the Unix socket (the embedded database), a stopped server's socket file is gone.
    (e.code === 'ENOENT' && e.syscall === 'connect') ||
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|is not queryable/i.test(
      e.message ?? '',
    )
  )
    return new HttpError(
      503,
      'Service unavailable',
      'The database is unavailable; try again shortly.',
      undefined,
      {
        'retry-after': '5',
      },
    );
  return undefined;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const known = toHttpError(err);
    if (known) {
      if (known.status >= 500) logger.warn({ err: (err as Error).message, path: req.path }, known.title);
      return sendProblem(res, known);
    }
    logger.error({ err, path: req.path }, 'unhandled error');
    sendProblem(res, new HttpError(500, 'Internal error', 'Something went wrong; it has been logged.'));
  };
}

/**
 * Requests Node's HTTP parser refuses (a malformed request line or header, headers too large)
 * never reach Express: the server writes this raw response to the socket (see server.ts), so
 * they get a problem too.
 */
export function clientErrorResponse(err: NodeJS.ErrnoException): string {
  const [status, title] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout']
        : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
          ? [413, 'Payload Too Large']
          : [400, 'Bad Request'];
  const body = JSON.stringify({
    type: `https://herald.dev/problems/${status}`,
    title,
    status,
    detail: 'The request is not valid HTTP/1.1.',
  });
  return `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * OPTIONS on a path the API has: the methods the document gives it. (Express's own answer would
 * also count a templated path's methods: GET for `/v1/events/batch`, from `/v1/events/{id}`.)
 */
export const optionsHandler: RequestHandler = (req, res, next) => {
  const allowed = req.method === 'OPTIONS' ? allowedMethods(req.path) : undefined;
  if (!allowed) return next();
  res.set('allow', allowed.join(', ')).status(204).end();
};

/**
 * A path the API has, asked with a method it does not have: 405 naming the ones it has (RFC 9110),
 * before any router, so that a concrete path's answer is not a templated one's.
 */
export const methodNotAllowedHandler: RequestHandler = (req, res, next) => {
  const allowed = allowedMethods(req.path);
  if (!allowed || allowed.includes(req.method)) return next();
  const allow = allowed.join(', ');
  sendProblem(
    res,
    new HttpError(405, 'Method not allowed', `${req.path} answers ${allow}.`, undefined, { allow }),
  );
};

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, new HttpError(404, 'Not found', `No route for ${req.method} ${req.path}.`));
};
