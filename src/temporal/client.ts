import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';
import { connectionOptions } from './connection';
import { installRuntime } from './runtime';

/**
 * The API's Temporal client, over the SDK's native (Rust) connection rather than grpc-js: a
 * workflow start or signal costs the API process about 40 % less CPU (docs/performance.md), and a
 * resume starts or signals one workflow per held delivery.
 */
export async function connectTemporalClient(config: Config, address: string): Promise<Client> {
  installRuntime();
  const connection = await NativeConnection.connect(connectionOptions(config.temporal.connection, address));
  return new Client({ connection, namespace: config.temporal.namespace });
}
