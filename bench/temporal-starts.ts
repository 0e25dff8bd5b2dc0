/**
 * The embedded Temporal dev server's own costs on this machine, with nothing else running: every
 * delivery is one workflow, so these bound deliveries per second.
 *
 * 1. Starts alone, to a task queue no worker polls, from the grpc-js client and from the SDK's
 *    native (Rust) connection, which the API uses.
 * 2. Whole workflows that do nothing (started, one workflow task, completed) run by a worker in
 *    this process, started normally and eagerly (the server hands the first task back in the
 *    start's answer; Herald's starter does this, src/temporal/starter.ts).
 *
 * CPU per workflow is measured in this process and in the server.
 *
 *   npx tsx bench/temporal-starts.ts [workflows per round, default 300]
 */
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { installRuntime } from '../src/temporal/runtime';
import { lanes } from './http';
import { cpuSeconds } from './proc';
import { startTemporalOnly } from './stack';

async function round(label: string, count: number, serverPid: number, run: () => Promise<void>) {
  const clientCpu = process.cpuUsage();
  const serverCpu = cpuSeconds(serverPid) ?? 0;
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const c = process.cpuUsage(clientCpu);
  const server = ((cpuSeconds(serverPid) ?? 0) - serverCpu) * 1000;
  console.log(
    `${label.padEnd(16)} ${(count / seconds).toFixed(0).padStart(5)}/s; CPU per workflow: ` +
      `this process ${((c.user + c.system) / 1000 / count).toFixed(2)} ms, Temporal server ${(server / count).toFixed(2)} ms`,
  );
}

async function main() {
  const count = Number(process.argv[2] ?? 300);
  installRuntime();
  const temporal = await startTemporalOnly('herald-starts-');
  const serverPid = temporal.pid;
  try {
    const grpc = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    const connection = await NativeConnection.connect({ address: temporal.address });
    const native = new Client({ connection });
    const startOnly = (client: Client, label: string) => () =>
      lanes(count, 16, async (i) => {
        await client.workflow.start('trivialWorkflow', {
          workflowId: `${label}-${i}`,
          taskQueue: 'nobody-polls-this',
        });
      });
    for (let r = 1; r <= 2; r++) {
      await round(`start grpc-js ${r}`, count, serverPid, startOnly(grpc, `grpc-${r}`));
      await round(`start native ${r}`, count, serverPid, startOnly(native, `native-${r}`));
    }

    let ran = 0;
    const worker = await Worker.create({
      connection,
      taskQueue: 'trivial',
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('./trivial-workflow'),
        logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} },
      }),
      sinks: { done: { ran: { fn: () => void ran++, callDuringReplay: false } } },
    });
    const running = worker.run();
    const whole = (eager: boolean, label: string) => async () => {
      ran = 0;
      await lanes(count, 16, async (i) => {
        await native.workflow.start('trivialWorkflow', {
          workflowId: `${label}-${i}`,
          taskQueue: 'trivial',
          requestEagerStart: eager,
        });
      });
      while (ran < count) await new Promise((r) => setTimeout(r, 5));
    };
    for (let r = 1; r <= 2; r++) {
      await round(`whole normal ${r}`, count, serverPid, whole(false, `normal-${r}`));
      await round(`whole eager ${r}`, count, serverPid, whole(true, `eager-${r}`));
    }
    worker.shutdown();
    await running;
  } finally {
    await temporal.stop();
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
