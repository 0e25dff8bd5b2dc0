/** The parent's side of test/cluster/launcher.ts: the same Cluster interface, over stdin/stdout. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Connection } from '@temporalio/client';
import { SERVER_NAME } from './certs';
import type { Cluster, ClusterOptions, Service } from './topology';

export async function launchCluster(
  opts: Omit<ClusterOptions, 'log'> & { log?: (line: string) => void },
): Promise<Cluster> {
  const { log, ...options } = opts;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'launcher.ts'), JSON.stringify(options)],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
    for (const line of String(chunk).split('\n').filter(Boolean)) log?.(line);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = readline.createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () =>
    new Promise<string>((resolve, reject) => {
      waiting.push(resolve);
      exited.then(() => reject(new Error(`the cluster launcher exited: ${stderr}`)));
    });

  const description = JSON.parse(await next()) as Omit<
    Cluster,
    'kill' | 'start' | 'connect' | 'stop' | 'pids'
  > & {
    pids: ReturnType<Cluster['pids']>;
  };
  let pids = description.pids;
  const command = async (cmd: string, service?: Service) => {
    child.stdin!.write(`${JSON.stringify({ cmd, service })}\n`);
    const answer = JSON.parse(await next()) as { ok: boolean; error?: string; pids: typeof pids };
    if (!answer.ok) throw new Error(answer.error);
    pids = answer.pids;
  };
  const { certs } = description;
  return {
    ...description,
    pids: () => pids,
    kill: (service) => command('kill', service),
    start: (service) => command('start', service),
    connect: () =>
      Connection.connect({
        address: description.address,
        tls: {
          serverNameOverride: SERVER_NAME,
          serverRootCACertificate: readFileSync(certs.ca),
          clientCertPair: { crt: readFileSync(certs.client.cert), key: readFileSync(certs.client.key) },
        },
        connectTimeout: 5_000,
      }),
    async stop() {
      child.stdin!.end();
      await exited;
    },
  };
}
