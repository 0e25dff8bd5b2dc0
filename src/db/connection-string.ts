import { accessSync, constants } from 'node:fs';

/**
 * TLS to PostgreSQL is set in DATABASE_URL as libpq does (`?sslmode=verify-full&sslrootcert=/ca.pem`,
 * plus `sslcert`/`sslkey` for a client certificate), which `pg` understands. For deployments that
 * mount the CA apart from the secret URL, libpq's own `PGSSLROOTCERT` (and `PGSSLMODE`) are read too
 * and written into the URL, since `pg` does not read them itself. Files are checked here, because
 * `pg` reads them only at the first connection and fails there with a stack trace.
 */
const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

export function resolveDatabaseUrl(
  databaseUrl: string | undefined,
  env: Record<string, string | undefined>,
): { url: string | undefined; issues: string[] } {
  const issues: string[] = [];
  if (env.PGSSLMODE !== undefined && !SSL_MODES.includes(env.PGSSLMODE))
    issues.push(`PGSSLMODE: expected one of ${SSL_MODES.join(', ')}`);
  if (env.PGSSLROOTCERT !== undefined && !readable(env.PGSSLROOTCERT))
    issues.push('PGSSLROOTCERT: cannot read the file');
  if (!databaseUrl) return { url: undefined, issues };

  const url = new URL(databaseUrl);
  const params = url.searchParams;
  const before = params.toString();
  if (env.PGSSLROOTCERT && !params.has('sslrootcert')) {
    params.set('sslrootcert', env.PGSSLROOTCERT);
    // A CA given means "check the server against it": libpq's verify-full, unless a mode is named.
    if (!params.has('sslmode')) params.set('sslmode', env.PGSSLMODE ?? 'verify-full');
  } else if (env.PGSSLMODE && !params.has('sslmode')) params.set('sslmode', env.PGSSLMODE);

  const mode = params.get('sslmode');
  if (mode !== null && !SSL_MODES.includes(mode))
    issues.push(`DATABASE_URL: sslmode must be one of ${SSL_MODES.join(', ')}`);
  for (const name of ['sslrootcert', 'sslcert', 'sslkey']) {
    const file = params.get(name);
    if (file !== null && !readable(file) && !(name === 'sslrootcert' && env.PGSSLROOTCERT === file))
      issues.push(`DATABASE_URL: cannot read the ${name} file`);
  }
  // Unchanged, the URL is passed on exactly as given.
  return { url: params.toString() === before ? databaseUrl : url.toString(), issues };
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
