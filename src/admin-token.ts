import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config';

/**
 * HERALD_ADMIN_TOKEN when set; otherwise the token generated on first start and kept in the data
 * directory (mode 0600), so every process of one installation agrees on it.
 */
export async function resolveAdminToken(config: Config): Promise<string> {
  if (config.adminToken) return config.adminToken;
  const file = path.join(config.dataDir, 'admin-token');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(config.dataDir, { recursive: true });
  const token = `hadm_${randomBytes(32).toString('base64url')}`;
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' }).catch(async (err) => {
    if (err.code !== 'EEXIST') throw err; // another process won the race: use its token
  });
  return (await readFile(file, 'utf8')).trim();
}
