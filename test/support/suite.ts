import { type ApiClient, apiClient } from './client';
import { type Receiver, startReceiver } from './receiver';
import { type Stack, startStack } from './stack';

// What most integration files share, started before a file's tests and stopped after them: a stack
// of the file's own, a receiver, and an admin client. Jest loads this module once per test file,
// so each file has its own; the bindings are live, set by useStack's beforeAll.
export let stack: Stack;
export let receiver: Receiver;
export let admin: ApiClient;

/** Starts the stack (with these options), the receiver and the admin client for this file's tests. */
export function useStack(options?: Parameters<typeof startStack>[0]): void {
  beforeAll(async () => {
    stack = await startStack(options);
    receiver = await startReceiver();
    admin = apiClient(stack.api.url, stack.adminToken);
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });
}
