import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config';
import { createSecretCipher, generateEncryptionKey, type SecretCipher } from './secret-cipher';

/**
 * The cipher of signing secrets: over HERALD_ENCRYPTION_KEY when set; otherwise over the key
 * generated on first start and kept in the data directory (mode 0600), as the admin token is, so
 * every process of one installation on one machine agrees on it. Several machines must share
 * HERALD_ENCRYPTION_KEY instead.
 */
export async function resolveSecretCipher(config: Config): Promise<SecretCipher> {
  if (config.encryptionKeys) return createSecretCipher(config.encryptionKeys);
  return createSecretCipher([Buffer.from(await dataDirKey(config.dataDir), 'base64')]);
}

async function dataDirKey(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'encryption-key');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${generateEncryptionKey()}\n`, { mode: 0o600, flag: 'wx' }).catch(async (err) => {
    if (err.code !== 'EEXIST') throw err; // another process won the race: use its key
  });
  return (await readFile(file, 'utf8')).trim();
}
