import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { AttemptNotifications } from '../db/notifications';
import type { Pool } from '../db/pool';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { SecretCipher } from '../secret-cipher';
import type { Authenticator } from './auth';

/** What every router gets: injected, so tests build the API over their own database and server. */
export interface ApiContext {
  config: Config;
  pool: Pool;
  temporal: Client;
  logger: Logger;
  metrics: Metrics;
  notifications: AttemptNotifications;
  secretCipher: SecretCipher;
  authenticate: Authenticator;
}

export function workflowUrl(config: Config, workflowId: string): string {
  return `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export const iso = (d: Date) => d.toISOString();
