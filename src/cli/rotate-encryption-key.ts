import { loadConfig } from '../config';
import { reencryptSecrets } from '../db/queries/webhook-secrets';
import { resolveSecretCipher } from '../encryption-key';
import { CIPHERTEXT_PREFIX } from '../secret-cipher';
import { connectDatabase } from './connect';
import { runMain, StartupError } from './main';

/**
 * `npm run rotate-encryption-key`: re-encrypts every signing secret under the first key of
 * HERALD_ENCRYPTION_KEY. Put the new key first, keep the old ones after it (API and workers then
 * decrypt both), run this, then drop the old keys. Safe to run while Herald runs, and again.
 */
runMain('rotate-encryption-key', async () => {
  const config = loadConfig();
  if (!config.databaseUrl) throw new StartupError('DATABASE_URL is required');
  const cipher = await resolveSecretCipher(config);
  const pool = await connectDatabase(config.databaseUrl, 1);
  const client = await pool.connect();
  try {
    const rewritten = await reencryptSecrets(client, cipher, `${CIPHERTEXT_PREFIX}${cipher.currentKeyId}:`);
    process.stdout.write(
      `re-encrypted the secrets of ${rewritten} webhooks under key ${cipher.currentKeyId}\n`,
    );
  } finally {
    client.release();
    await pool.end();
  }
});
