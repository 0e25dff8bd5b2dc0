import { proxyLocalActivities } from '@temporalio/workflow';

/** bench/floor.ts: the least a delivery must do (one local activity that POSTs), and nothing more. */
interface FloorActivities {
  post(url: string, body: string, deliveryId: string): Promise<number>;
}
const { post } = proxyLocalActivities<FloorActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 1 },
});

/** `deliveryId`: the floor with records writes the attempt's records under it (bench/floor.ts). */
export async function floorWorkflow(url: string, body: string, deliveryId: string): Promise<number> {
  return post(url, body, deliveryId);
}
