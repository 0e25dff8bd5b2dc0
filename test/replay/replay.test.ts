// Replay safety: histories recorded from every version of Herald's workflows (test/replay/histories,
// written by record-histories.ts) must replay against today's workflow bundle without a
// nondeterminism error, and together they cover every workflow type and both sides of every
// patch (docs/lifecycle.md, "Patches").
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { installRuntime } from '../../src/temporal/runtime';
import { BOUNDED_LIFECYCLE, LOCAL_FIRST_ATTEMPT, WAIT_OUT_OUTAGES } from '../../workflows/delivery';
import { STRICT_CHILD_V2 } from '../../workflows/release';
import { CANCEL_CUTS_WAITS, CANCEL_UNSENT, CHUNKED_SENDS, OWNED_SENDS } from '../../workflows/sync';
import { sharedServices } from '../support/stack';

const dir = path.join(__dirname, 'histories');
interface Recorded {
  file: string;
  workflowId: string;
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: proto3 JSON of a history, read field by field
  history: { events: Record<string, any>[] };
}
const recorded: Recorded[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => {
    const { workflowId, history } = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    const type = history.events[0].workflowExecutionStartedEventAttributes.workflowType.name;
    return { file, workflowId, type, history };
  });

/** The patch ids a history recorded (markers named core_patch carry them). */
function patchesOf(h: Recorded): string[] {
  return h.history.events
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
    .map((e) => {
      const payload = e.markerRecordedEventAttributes.details['patch-data'].payloads[0];
      return JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')).id as string;
    });
}

test("every recorded history replays against today's workflow code", async () => {
  installRuntime(); // the SDK's own logs at ERROR only
  const replays = Worker.runReplayHistories(
    { workflowBundle: { codePath: sharedServices().bundle } },
    recorded.map((h) => ({ workflowId: h.workflowId, history: historyFromJSON(h.history) })),
  );
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of replays) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(replayed).toBe(recorded.length);
});

test('the histories cover every workflow type and both sides of every patch', () => {
  const types = new Set(recorded.map((h) => h.type));
  for (const type of [
    'deliveryWorkflow',
    'deliveryWorkflowV2',
    'testWorkflow',
    'syncWorkflow',
    'releaseWorkflow',
    'retentionWorkflow',
  ])
    expect([type, types.has(type)]).toEqual([type, true]);

  // Each patch with the scenario that reaches it: both sides must be among that scenario's histories.
  const patches: [string, string, string][] = [
    [LOCAL_FIRST_ATTEMPT, 'delivery-succeeds', 'deliveryWorkflow'],
    [WAIT_OUT_OUTAGES, 'delivery-outage', 'deliveryWorkflow'],
    [BOUNDED_LIFECYCLE, 'delivery-held', 'deliveryWorkflow'],
    [CHUNKED_SENDS, 'sync-chunked', 'syncWorkflow'],
    [CANCEL_UNSENT, 'sync-cancelled', 'syncWorkflow'],
    [OWNED_SENDS, 'sync-chunked', 'syncWorkflow'],
    [CANCEL_CUTS_WAITS, 'sync-paced', 'syncWorkflow'],
    [STRICT_CHILD_V2, 'release-strict', 'releaseWorkflow'],
  ];
  for (const [patch, scenario, type] of patches) {
    const reaching = recorded.filter((h) => h.file.includes(`.${scenario}.`) && h.type === type);
    const sides = {
      patch,
      new: reaching.some((h) => patchesOf(h).includes(patch)),
      old: reaching.some((h) => !patchesOf(h).includes(patch)),
    };
    expect(sides).toEqual({ patch, new: true, old: true });
  }
});
