import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  bodySignature,
  generateSecret,
  secretKey,
  signatureHeaders,
  standardSignature,
} from '../../src/delivery/signing';

// The Standard Webhooks specification's own test vector.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

test('matches the Standard Webhooks known answer', () => {
  expect(standardSignature(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
});

test('any change to id, timestamp or body changes the signature', () => {
  expect(standardSignature(VECTOR.secret, `${VECTOR.id}x`, VECTOR.timestamp, VECTOR.body)).not.toBe(
    VECTOR.signature,
  );
  expect(standardSignature(VECTOR.secret, VECTOR.id, VECTOR.timestamp + 1, VECTOR.body)).not.toBe(
    VECTOR.signature,
  );
  expect(standardSignature(VECTOR.secret, VECTOR.id, VECTOR.timestamp, `${VECTOR.body} `)).not.toBe(
    VECTOR.signature,
  );
});

test('generated secrets are whsec_ + base64 of 32 random bytes, and the reference library verifies them', () => {
  const secret = generateSecret();
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  expect(secretKey(secret)).toHaveLength(32);
  expect(generateSecret()).not.toBe(secret);
  const now = Math.floor(Date.now() / 1000);
  const headers = signatureHeaders('standard-webhooks', [secret], 'evt_1', now, '{"a":1}');
  expect(new Webhook(secret).verify('{"a":1}', headers)).toEqual({ a: 1 });
});

test('a user-defined key signs with its UTF-8 bytes', () => {
  const key = 'my own signing key ✓';
  const expected = createHmac('sha256', Buffer.from(key, 'utf8')).update('i.1.b').digest('base64');
  expect(standardSignature(key, 'i', 1, 'b')).toBe(`v1,${expected}`);
});

test('during a rotation both secrets sign, space-separated, and either verifies', () => {
  const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
  const now = Math.floor(Date.now() / 1000);
  const headers = signatureHeaders('standard-webhooks', [newSecret, oldSecret], 'evt_2', now, '{}');
  expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
  expect(() => new Webhook(oldSecret).verify('{}', headers)).not.toThrow();
  expect(() => new Webhook(newSecret).verify('{}', headers)).not.toThrow();
});

test('the hmac-sha256 option signs the body alone as hex', () => {
  const headers = signatureHeaders('hmac-sha256', ['k'.repeat(16)], 'evt_3', 1, 'body');
  expect(headers.signature).toBe(
    `sha256=${createHmac('sha256', 'k'.repeat(16)).update('body').digest('hex')}`,
  );
  expect(headers['webhook-signature']).toBeUndefined();
  expect(bodySignature('k'.repeat(16), 'body')).toBe(headers.signature);
});
