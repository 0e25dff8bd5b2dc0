import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Certificates for a Temporal frontend that requires mutual TLS, made at test time with `openssl`
 * (EC P-256: fast to generate). `ca` signs the server's and the clients' certificates; `rogue` is a
 * second CA the server does not trust, with a client certificate of its own, for the refusal tests.
 */
export interface Certificates {
  dir: string;
  /** The CA both sides trust. */
  ca: string;
  /** The frontend's certificate: DNS names `temporal-frontend` and `localhost`, IP 127.0.0.1. */
  server: { cert: string; key: string };
  /** Herald's client certificate, signed by `ca`. */
  client: { cert: string; key: string };
  /** The Temporal system worker's client certificate, signed by `ca`. */
  systemWorker: { cert: string; key: string };
  /** A client certificate signed by a CA the server does not know. */
  rogue: { cert: string; key: string };
}

/** The name the frontend's certificate carries and clients check (TEMPORAL_TLS_SERVER_NAME). */
export const SERVER_NAME = 'temporal-frontend';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function key(dir: string, name: string): string {
  const file = path.join(dir, `${name}.key`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], dir);
  return file;
}

function selfSignedCa(dir: string, name: string): { cert: string; key: string } {
  const k = key(dir, name);
  const cert = path.join(dir, `${name}.pem`);
  openssl(
    ['req', '-x509', '-new', '-key', k, '-sha256', '-days', '2', '-subj', `/CN=${name}`, '-out', cert],
    dir,
  );
  return { cert, key: k };
}

function signed(
  dir: string,
  name: string,
  ca: { cert: string; key: string },
  extensions: string,
): { cert: string; key: string } {
  const k = key(dir, name);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  const cert = path.join(dir, `${name}.pem`);
  writeFileSync(ext, extensions);
  openssl(['req', '-new', '-key', k, '-subj', `/CN=${name}`, '-out', csr], dir);
  openssl(
    [
      ...['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial'],
      ...['-days', '2', '-sha256', '-extfile', ext, '-out', cert],
    ],
    dir,
  );
  return { cert, key: k };
}

export function makeCertificates(dir: string): Certificates {
  mkdirSync(dir, { recursive: true });
  const ca = selfSignedCa(dir, 'herald-test-ca');
  const rogueCa = selfSignedCa(dir, 'rogue-ca');
  const clientExt = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n';
  return {
    dir,
    ca: ca.cert,
    server: signed(
      dir,
      'frontend',
      ca,
      `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:${SERVER_NAME},DNS:localhost,IP:127.0.0.1\n`,
    ),
    client: signed(dir, 'herald', ca, clientExt),
    systemWorker: signed(dir, 'temporal-system-worker', ca, clientExt),
    rogue: signed(dir, 'rogue-client', rogueCa, clientExt),
  };
}
