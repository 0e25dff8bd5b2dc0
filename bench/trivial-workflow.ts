import { proxySinks, type Sinks } from '@temporalio/workflow';

/** bench/temporal-starts.ts: a workflow that does nothing but tell the worker it ran. */
interface DoneSinks extends Sinks {
  done: { ran(): void };
}
const { done } = proxySinks<DoneSinks>();

export async function trivialWorkflow(): Promise<void> {
  done.ran();
}
