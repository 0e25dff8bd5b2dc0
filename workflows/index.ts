// The worker's workflow bundle entry: every workflow Herald runs.
export { deliveryWorkflow, pauseSignal, resumeSignal, testWorkflow } from './delivery';
export { retentionWorkflow } from './retention';
export { syncWorkflow } from './sync';
