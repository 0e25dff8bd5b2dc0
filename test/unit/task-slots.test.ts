import { WorkflowSlotSupplier } from '../../src/temporal/task-slots';

const ctx = { slotType: 'workflow' } as never;

/** Whether a promise has settled once the microtasks queued so far have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

test('an admitted start keeps its slot from polls, and its eager task gets it', async () => {
  const slots = new WorkflowSlotSupplier(2);
  await slots.reserveSlot(ctx, new AbortController().signal); // a poll
  const admitted = await slots.admitStart();
  // The last slot is claimed by the start in flight: a poll waits for it.
  const poll = slots.reserveSlot(ctx, new AbortController().signal);
  expect(await settled(poll)).toBe(false);
  // The start's eager task reserves it.
  expect(slots.tryReserveSlot()).not.toBeNull();
  admitted();
  expect(await settled(poll)).toBe(false);
  // Its task completes: the waiting poll is served.
  slots.releaseSlot();
  expect(await settled(poll)).toBe(true);
});

test('a start waits for a free slot, and a waiting poll is served before it', async () => {
  const slots = new WorkflowSlotSupplier(1);
  expect(slots.tryReserveSlot()).not.toBeNull();
  expect(slots.tryReserveSlot()).toBeNull();
  const start = slots.admitStart();
  const poll = slots.reserveSlot(ctx, new AbortController().signal);
  expect(await settled(start)).toBe(false);
  slots.releaseSlot();
  expect(await settled(poll)).toBe(true);
  expect(await settled(start)).toBe(false);
  slots.releaseSlot();
  expect(await settled(start)).toBe(true);
  // The admitted start holds the only slot.
  expect(await settled(slots.reserveSlot(ctx, new AbortController().signal))).toBe(false);
});

test('freed slots admit as many waiting starts as they can hold, and no more', async () => {
  const slots = new WorkflowSlotSupplier(2);
  slots.tryReserveSlot();
  slots.tryReserveSlot();
  const starts = [slots.admitStart(), slots.admitStart(), slots.admitStart()];
  slots.releaseSlot();
  slots.releaseSlot();
  expect(await Promise.all(starts.map(settled))).toEqual([true, true, false]);
  (await starts[0])();
  expect(await settled(starts[2])).toBe(true);
});

test('an aborted poll gives up its place, and close lets every waiting start go', async () => {
  const slots = new WorkflowSlotSupplier(1);
  slots.tryReserveSlot();
  const abort = new AbortController();
  const poll = slots.reserveSlot(ctx, abort.signal);
  const start = slots.admitStart();
  abort.abort(new Error('poll no longer needed'));
  await expect(poll).rejects.toThrow('poll no longer needed');
  slots.releaseSlot();
  expect(await settled(start)).toBe(true);

  const full = new WorkflowSlotSupplier(1);
  full.tryReserveSlot();
  const waiting = full.admitStart();
  expect(await settled(waiting)).toBe(false);
  full.close();
  expect(await settled(waiting)).toBe(true);
});
