import { loadConfig } from '../config';
import { migrate } from '../db/migrate';
import { resolveSecretCipher } from '../encryption-key';
import { connectDatabase } from './connect';
import { runMain, StartupError } from './main';

runMain('migrate', async () => {
  const config = loadConfig();
  if (!config.databaseUrl) throw new StartupError('DATABASE_URL is required');
  const pool = await connectDatabase(config.databaseUrl, 1);
  const applied = await migrate(pool, await resolveSecretCipher(config));
  await pool.end();
  process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'schema up to date\n');
});
