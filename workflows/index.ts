// The worker's workflow bundle entry: every workflow Herald runs.
export { deliveryWorkflow, deliveryWorkflowV2, testWorkflow } from './delivery';
export { recoveryWorkflow } from './recovery';
export { releaseWorkflow } from './release';
export { retentionWorkflow } from './retention';
export { syncWorkflow } from './sync';
