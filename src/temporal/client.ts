import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';
import { installRuntime } from './runtime';

/**
 * The API's Temporal client, over the SDK's native (Rust) connection rather than grpc-js: a
 * workflow start costs the API process about 40 % less CPU (docs/performance.md), and the API
 * starts one workflow per delivery.
 */
export async function connectTemporalClient(config: Config, address: string): Promise<Client> {
  installRuntime();
  const connection = await NativeConnection.connect({ address });
  return new Client({ connection, namespace: config.temporal.namespace });
}
