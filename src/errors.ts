/**
 * Typed domain errors. The API maps them to problem+json in one place (src/api/problem.ts);
 * nothing else decides status codes.
 */
export interface FieldError {
  path: string;
  message: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail?: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail ?? title);
  }
}

/**
 * The request matches the OpenAPI document's schema but breaks a rule a schema cannot state (one
 * field against another, against stored data, or against the address policy): 422, so a 400 always
 * means "not what the document describes".
 */
export class UnprocessableError extends HttpError {
  constructor(errors: FieldError[], detail = 'The request is well-formed but cannot be carried out.') {
    super(422, 'Unprocessable request', detail, errors);
  }
}

export class UnauthorizedError extends HttpError {
  constructor(detail = 'A valid bearer token is required.') {
    super(401, 'Unauthorized', detail);
  }
}

export class ForbiddenError extends HttpError {
  constructor(detail: string) {
    super(403, 'Forbidden', detail);
  }
}

export class NotFoundError extends HttpError {
  constructor(what: string) {
    super(404, 'Not found', `${what} was not found.`);
  }
}

export class ConflictError extends HttpError {
  constructor(detail: string) {
    super(409, 'Conflict', detail);
  }
}

export class UnavailableError extends HttpError {
  constructor(detail: string) {
    super(503, 'Service unavailable', detail, undefined, { 'retry-after': '5' });
  }
}

export class RateLimitedError extends HttpError {
  constructor(
    retryAfterSeconds: number,
    detail = `This key has used its request rate; retry in ${retryAfterSeconds} s.`,
  ) {
    super(429, 'Too many requests', detail, undefined, { 'retry-after': String(retryAfterSeconds) });
  }
}
