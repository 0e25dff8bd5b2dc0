import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config';
import { createSecretCipher, keyId, SecretCipherError } from '../../src/secret-cipher';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

test('a secret round-trips, each encryption differs, and the ciphertext names its key and hides the secret', () => {
  const cipher = createSecretCipher([oldKey]);
  const a = cipher.encrypt(secret);
  const b = cipher.encrypt(secret);
  expect(a).not.toBe(b);
  expect(a).toMatch(new RegExp(`^v1:${keyId(oldKey)}:[\\w-]+:[\\w-]+:[\\w-]+$`));
  expect(a).not.toContain('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  expect(cipher.decrypt(a)).toBe(secret);
  expect(cipher.keyIdOf(a)).toBe(keyId(oldKey));
  expect(cipher.keyIdOf(secret)).toBeUndefined();
});

test('the first key encrypts; every key decrypts, each ciphertext by the key it names', () => {
  const before = createSecretCipher([oldKey]).encrypt(secret);
  const rotated = createSecretCipher([newKey, oldKey]);
  expect(rotated.currentKeyId).toBe(keyId(newKey));
  expect(rotated.keyIdOf(rotated.encrypt(secret))).toBe(keyId(newKey));
  expect(rotated.decrypt(before)).toBe(secret);
});

test('a key that is not in the list fails with its id', () => {
  const stored = createSecretCipher([oldKey]).encrypt(secret);
  expect(() => createSecretCipher([newKey]).decrypt(stored)).toThrow(
    new SecretCipherError(
      `the stored secret is encrypted under key ${keyId(oldKey)}, which HERALD_ENCRYPTION_KEY does not hold`,
    ),
  );
});

test('a wrong key claiming the right id, and any tampered part, fail authentication', () => {
  const cipher = createSecretCipher([oldKey]);
  const stored = cipher.encrypt(secret);
  const [version, id, iv, tag, ct] = stored.split(':');
  const flip = (part: string) => {
    const bytes = Buffer.from(part, 'base64url');
    bytes[0] ^= 1;
    return bytes.toString('base64url');
  };
  for (const tampered of [
    [version, id, flip(iv), tag, ct],
    [version, id, iv, flip(tag), ct],
    [version, id, iv, tag, flip(ct)],
  ]) {
    expect(() => cipher.decrypt(tampered.join(':'))).toThrow(/altered/);
  }
  // Another key under the first key's id (a key file replaced by mistake): GCM's tag refuses it.
  const impostor = createSecretCipher([newKey]);
  const forged = impostor.encrypt(secret).replace(keyId(newKey), keyId(oldKey));
  expect(() => cipher.decrypt(forged)).toThrow(/altered/);
  expect(() => cipher.decrypt(secret)).toThrow(/not encrypted/);
});

test('HERALD_ENCRYPTION_KEY takes comma-separated base64 32-byte keys, newest first, and never echoes one', () => {
  const keys = loadConfig({
    HERALD_ENCRYPTION_KEY: `${newKey.toString('base64')}, ${oldKey.toString('base64')}`,
  }).encryptionKeys;
  expect(keys?.map((k) => k.toString('hex'))).toEqual([newKey.toString('hex'), oldKey.toString('hex')]);
  const short = randomBytes(16).toString('base64');
  let err: Error | undefined;
  try {
    loadConfig({ HERALD_ENCRYPTION_KEY: `${newKey.toString('base64')},${short}` });
  } catch (e) {
    err = e as Error;
  }
  expect(err).toBeInstanceOf(ConfigError);
  expect(err?.message).toBe(
    'invalid configuration: HERALD_ENCRYPTION_KEY: key 2 of 2 is not 32 bytes in base64 (make one with: openssl rand -base64 32)',
  );
  expect(err?.message).not.toContain(short);
  expect(loadConfig({}).encryptionKeys).toBeUndefined();
});
