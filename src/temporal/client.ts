import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';

export async function connectTemporalClient(config: Config, address: string): Promise<Client> {
  const connection = await Connection.connect({ address, connectTimeout: 10_000 });
  return new Client({ connection, namespace: config.temporal.namespace });
}
