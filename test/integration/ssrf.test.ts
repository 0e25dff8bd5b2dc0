import ipaddr from 'ipaddr.js';
import { createHttpSender } from '../../src/delivery/http-sender';
import { type ApiClient, apiClient } from '../support/client';
import { appWithKey, createWebhook } from '../support/fixtures';
import { admin, receiver, stack, useStack } from '../support/suite';

let key: ApiClient;

// The default policy: no network is allowed, as in production. http stays allowed so that the
// checks below are about addresses, not schemes.
useStack({ env: { HERALD_ALLOWED_NETWORKS: '' } });
beforeAll(async () => {
  key = apiClient(stack.api.url, (await appWithKey(admin)).token);
});

test('a name that resolves to loopback is blocked where it is dialled, and recorded as blocked', async () => {
  const port = new URL(receiver.url()).port;
  const webhook = await createWebhook(key, { url: `http://localhost:${port}/internal` });
  const test = await key.post(`/v1/webhooks/${webhook.id}/test`);
  expect(test.status).toBe(200);
  expect(test.body).toMatchObject({ outcome: 'blocked', responseStatus: null, error: { kind: 'blocked' } });
  expect(test.body.error.message).toMatch(
    /localhost resolves to .* blocked range (127\.0\.0\.0\/8|::1\/128)/,
  );
  expect(receiver.on('/internal')).toHaveLength(0);
  const detail = await key.get(`/v1/deliveries/${test.body.deliveryId}`);
  expect(detail.body.attempts[0]).toMatchObject({ outcome: 'blocked', error: { kind: 'blocked' } });
});

test.each([
  ['http://169.254.169.254/latest/meta-data/', /169\.254\.0\.0\/16/],
  ['http://[::ffff:127.0.0.1]/', /127\.0\.0\.0\/8|::ffff:0:0\/96/],
  ['http://[::1]:8080/', /::1\/128/],
  ['http://10.0.0.7/', /10\.0\.0\.0\/8/],
  ['http://[64:ff9b::a9fe:a9fe]/', /64:ff9b::\/96|169\.254/],
])('the webhook form refuses the literal %s at once', async (url, range) => {
  const res = await key.post('/v1/webhooks', { url });
  expect(res.status).toBe(422);
  expect(res.body.errors).toEqual([{ path: 'body.url', message: expect.stringMatching(range) }]);
});

test.each([
  'http://169.254.169.254/latest/meta-data/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:7f00:1]/',
  'http://0.0.0.0/',
])('the sender itself blocks %s without connecting', async (url) => {
  const sender = createHttpSender({ allowedNetworks: [] });
  const result = await sender.send({ url, method: 'POST', headers: {}, body: '{}', timeoutMs: 2_000 });
  sender.close();
  expect(result).toMatchObject({ ok: false, kind: 'blocked' });
});

test('a redirect to an internal address is never followed', async () => {
  // The receiver stands in for a public endpoint that answers with a redirect inward.
  const sender = createHttpSender({ allowedNetworks: [ipaddr.parseCIDR('127.0.0.1/32')] });
  receiver.reply((r) =>
    r.path === '/redirect' ? { status: 302, headers: { location: 'http://169.254.169.254/latest/' } } : {},
  );
  const result = await sender.send({
    url: receiver.url('/redirect'),
    method: 'POST',
    headers: {},
    body: '{}',
    timeoutMs: 2_000,
  });
  sender.close();
  expect(result).toMatchObject({
    ok: true,
    status: 302,
    headers: { location: 'http://169.254.169.254/latest/' },
  });
  expect(receiver.requests.filter((r) => r.path !== '/redirect')).toHaveLength(0);
  receiver.reply(() => ({}));
});

test('opening loopback in the allow list lets the same delivery through', async () => {
  const sender = createHttpSender({ allowedNetworks: [ipaddr.parseCIDR('127.0.0.0/8')] });
  const port = new URL(receiver.url()).port;
  const result = await sender.send({
    url: `http://127.0.0.1:${port}/allowed`,
    method: 'POST',
    headers: {},
    body: '{}',
    timeoutMs: 2_000,
  });
  sender.close();
  expect(result).toMatchObject({ ok: true, status: 200 });
  expect(receiver.on('/allowed')).toHaveLength(1);
});
