import pino from 'pino';

/**
 * One structured logger for every process. Redaction is a second line of defence: no code path
 * logs a secret on purpose, and these paths catch the ones that could carry one by accident.
 */
export function createLogger(level: string, name: string, destination?: pino.DestinationStream) {
  return pino(
    {
      name,
      level,
      redact: {
        paths: [
          'secret',
          'token',
          '*.secret',
          '*.token',
          'req.headers.authorization',
          'req.headers["x-access-token"]',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

export type Logger = pino.Logger;
