import { CIPHERTEXT_PREFIX, type SecretCipher } from '../../secret-cipher';
import type { PoolClient } from '../pool';

const BATCH = 500;

/**
 * Re-encrypts under the cipher's current key every stored secret (current and previous) that does
 * not start with `keep`: plaintext from before encryption (`keep` = any ciphertext) or, for a key
 * rotation, also ciphertext under an older key (`keep` = the current key's). In batches of 500
 * rows, each its own transaction; the rows are locked, so a concurrent rotate-secret waits and then
 * rotates the re-encrypted values instead of being overwritten. Returns the rows it rewrote.
 */
export async function reencryptSecrets(
  client: PoolClient,
  cipher: SecretCipher,
  keep: string,
): Promise<number> {
  const reveal = (stored: string) => (stored.startsWith(CIPHERTEXT_PREFIX) ? cipher.decrypt(stored) : stored);
  let rewritten = 0;
  let after = '';
  for (;;) {
    await client.query('BEGIN');
    try {
      const { rows } = await client.query<{ id: string; secret: string; previous_secret: string | null }>(
        `SELECT id, secret, previous_secret FROM webhooks
          WHERE id > $1 AND (NOT starts_with(secret, $2) OR NOT starts_with(previous_secret, $2))
          ORDER BY id LIMIT ${BATCH} FOR UPDATE`,
        [after, keep],
      );
      for (const r of rows) {
        await client.query('UPDATE webhooks SET secret = $2, previous_secret = $3 WHERE id = $1', [
          r.id,
          r.secret.startsWith(keep) ? r.secret : cipher.encrypt(reveal(r.secret)),
          r.previous_secret === null || r.previous_secret.startsWith(keep)
            ? r.previous_secret
            : cipher.encrypt(reveal(r.previous_secret)),
        ]);
      }
      await client.query('COMMIT');
      rewritten += rows.length;
      if (rows.length < BATCH) return rewritten;
      after = rows[rows.length - 1].id;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }
}
