import type { Context } from '@temporalio/activity';
import { DeliveriesInFlight, startsInFlight } from '../../src/temporal/task-slots';

/** Whether the promise has settled by the time queued microtasks and timers of 0 ms have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
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

function activityContext(workflowId: string, isLocal: boolean): Context {
  return { info: { isLocal, workflowExecution: { workflowId, runId: 'r' } } } as unknown as Context;
}

describe('DeliveriesInFlight', () => {
  it('lets `limit` deliveries in and the next one only when one of them gives its place back', async () => {
    const inFlight = new DeliveriesInFlight(2, 60_000);
    await inFlight.take('delivery:a');
    await inFlight.take('delivery:b');
    const third = inFlight.take('delivery:c');
    expect(await settled(third)).toBe(false);
    inFlight.giveBack('delivery:unknown'); // holds no place: changes nothing
    expect(await settled(third)).toBe(false);
    inFlight.giveBack('delivery:a');
    expect(await settled(third)).toBe(true);
    inFlight.close();
  });

  it('gives a place back when the local activity of its workflow ends, failed or not, and not for a regular one', async () => {
    const inFlight = new DeliveriesInFlight(1, 60_000);
    const run = (workflowId: string, isLocal: boolean, outcome: () => Promise<unknown>) =>
      inFlight
        .giveBackOnFirstAttempt(activityContext(workflowId, isLocal))
        .inbound?.execute?.({ args: [], headers: {} }, outcome);

    await inFlight.take('delivery:a');
    await run('delivery:a', false, async () => 'sent');
    const next = inFlight.take('delivery:b');
    expect(await settled(next)).toBe(false);
    await expect(
      run('delivery:a', true, async () => {
        throw new Error('receiver answered 500');
      }),
    ).rejects.toThrow('receiver answered 500');
    expect(await settled(next)).toBe(true);
    await expect(run('delivery:b', true, async () => 'sent')).resolves.toBe('sent');
    await inFlight.take('delivery:c');
    inFlight.close();
  });

  it('takes a place back by itself after expireMs (an attempt that ran on another worker)', async () => {
    jest.useFakeTimers();
    try {
      const inFlight = new DeliveriesInFlight(1, 5_000);
      await inFlight.take('delivery:a');
      const next = inFlight.take('delivery:b');
      jest.advanceTimersByTime(4_999);
      await Promise.resolve();
      let done = false;
      next.then(() => {
        done = true;
      });
      await Promise.resolve();
      expect(done).toBe(false);
      jest.advanceTimersByTime(1);
      await next;
      inFlight.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('on close, starts waiting for a place give up, and later ones too', async () => {
    const inFlight = new DeliveriesInFlight(1, 60_000);
    await inFlight.take('delivery:a');
    const waiting = inFlight.take('delivery:b');
    inFlight.close();
    await expect(waiting).rejects.toThrow('shutting down');
    await expect(inFlight.take('delivery:c')).rejects.toThrow('shutting down');
  });

  it('sizes the places at a quarter of the workflow task slots, at least 2', () => {
    expect(startsInFlight(64)).toBe(16);
    expect(startsInFlight(100)).toBe(25);
    expect(startsInFlight(4)).toBe(2);
  });
});
