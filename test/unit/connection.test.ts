import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { resolveDatabaseUrl } from '../../src/db/connection-string';
import { loadTemporalConnection } from '../../src/temporal/connection';
import { type Certificates, makeCertificates } from '../cluster/certs';

let certs: Certificates;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'herald-conn-'));
  certs = makeCertificates(path.join(dir, 'certs'));
});

const mtlsEnv = () => ({
  TEMPORAL_ADDRESS: 'temporal.example:7233',
  TEMPORAL_TLS_CLIENT_CERT_PATH: certs.client.cert,
  TEMPORAL_TLS_CLIENT_KEY_PATH: certs.client.key,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
  TEMPORAL_TLS_SERVER_NAME: 'temporal-frontend',
});

/** The issues of an environment, or [] when it loads. */
const issues = (env: Record<string, string>) => loadTemporalConnection(env).issues;

test('nothing set: plaintext to no address, namespace default', () => {
  expect(loadTemporalConnection({})).toEqual({
    connection: {
      address: undefined,
      namespace: 'default',
      tls: undefined,
      apiKey: undefined,
      metadata: undefined,
    },
    issues: [],
  });
});

test('mutual TLS by environment alone: certificate, key, CA and server name reach the SDK options', () => {
  const { connection, issues } = loadTemporalConnection({ ...mtlsEnv(), TEMPORAL_NAMESPACE: 'herald' });
  expect(issues).toEqual([]);
  expect(connection.address).toBe('temporal.example:7233');
  expect(connection.namespace).toBe('herald');
  expect(connection.tls?.serverNameOverride).toBe('temporal-frontend');
  expect(Buffer.from(connection.tls!.clientCertPair!.crt).toString()).toBe(
    readFileSync(certs.client.cert, 'utf8'),
  );
  expect(Buffer.from(connection.tls!.serverRootCACertificate!).toString()).toBe(
    readFileSync(certs.ca, 'utf8'),
  );
  // The same through the _DATA variables (a Kubernetes Secret as environment).
  const data = loadTemporalConnection({
    TEMPORAL_ADDRESS: 'temporal.example:7233',
    TEMPORAL_TLS_CLIENT_CERT_DATA: readFileSync(certs.client.cert, 'utf8'),
    TEMPORAL_TLS_CLIENT_KEY_DATA: readFileSync(certs.client.key, 'utf8'),
  });
  expect(data.issues).toEqual([]);
  expect(data.connection.tls?.clientCertPair).toBeDefined();
});

test('an API key turns TLS on, as Temporal Cloud expects; TEMPORAL_TLS=false turns it off again', () => {
  const cloud = loadTemporalConnection({
    TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
    TEMPORAL_NAMESPACE: 'ns.acct',
    TEMPORAL_API_KEY: 'secret-api-key-value',
  });
  expect(cloud.issues).toEqual([]);
  expect(cloud.connection).toMatchObject({ tls: {}, apiKey: 'secret-api-key-value' });
  expect(
    loadTemporalConnection({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }).connection.tls,
  ).toBeUndefined();
  expect(loadTemporalConnection({ TEMPORAL_TLS: 'true' }).connection.tls).toEqual({});
});

test('every bad value is one issue naming its variable, never its value', () => {
  expect(issues({ TEMPORAL_ADDRESS: 'no-port' })).toEqual(['TEMPORAL_ADDRESS: expected host:port']);
  expect(issues({ TEMPORAL_TLS: 'maybe' })).toEqual(['TEMPORAL_TLS: expected true or false']);
  expect(issues({ ...mtlsEnv(), TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/cert.pem' })).toEqual([
    'TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read the file (ENOENT)',
  ]);
  expect(issues({ ...mtlsEnv(), TEMPORAL_TLS_CLIENT_KEY_PATH: undefined as never })).toEqual([
    'TEMPORAL_TLS_CLIENT_KEY_PATH: required with TEMPORAL_TLS_CLIENT_CERT_PATH',
  ]);
  const notPem = path.join(dir, 'not.pem');
  writeFileSync(notPem, 'hello');
  expect(
    issues({ ...mtlsEnv(), TEMPORAL_TLS_CLIENT_CERT_PATH: notPem, TEMPORAL_TLS_CLIENT_KEY_PATH: notPem }),
  ).toEqual([
    `TEMPORAL_TLS_CLIENT_CERT_PATH: not a PEM certificate`,
    `TEMPORAL_TLS_CLIENT_KEY_PATH: not a PEM private key`,
  ]);
  expect(issues({ ...mtlsEnv(), TEMPORAL_TLS_CLIENT_KEY_PATH: certs.rogue.key })).toEqual([
    'TEMPORAL_TLS_CLIENT_KEY_PATH: the key does not belong to TEMPORAL_TLS_CLIENT_CERT_PATH',
  ]);
  expect(issues({ ...mtlsEnv(), TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.client.key })).toEqual([
    'TEMPORAL_TLS_SERVER_CA_CERT_PATH: not a PEM certificate',
  ]);
  expect(issues({ ...mtlsEnv(), TEMPORAL_TLS_CLIENT_CERT_DATA: 'x' })).toEqual([
    'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_CERT_DATA: set one, not both',
  ]);
  expect(issues({ ...mtlsEnv(), TEMPORAL_TLS: 'false' })).toEqual([
    'TEMPORAL_TLS: is false, but TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH and TEMPORAL_TLS_SERVER_CA_CERT_PATH are set',
  ]);
  expect(issues({ TEMPORAL_CONFIG_FILE: '/nonexistent.toml' })).toEqual([
    'TEMPORAL_CONFIG_FILE: no such file',
  ]);
});

test('a profile file gives the same settings; environment variables override it', () => {
  const file = path.join(dir, 'temporal.toml');
  writeFileSync(
    file,
    [
      '[profile.prod]',
      'address = "prod.example:7233"',
      'namespace = "herald-prod"',
      '[profile.prod.tls]',
      `client_cert_path = "${certs.client.cert}"`,
      `client_key_path = "${certs.client.key}"`,
      '',
    ].join('\n'),
  );
  const prod = loadTemporalConnection({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
  expect(prod.issues).toEqual([]);
  expect(prod.connection).toMatchObject({ address: 'prod.example:7233', namespace: 'herald-prod' });
  expect(prod.connection.tls?.clientCertPair).toBeDefined();
  const overridden = loadTemporalConnection({
    TEMPORAL_CONFIG_FILE: file,
    TEMPORAL_PROFILE: 'prod',
    TEMPORAL_ADDRESS: 'other.example:7233',
  });
  expect(overridden.connection.address).toBe('other.example:7233');
  expect(issues({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' })).toEqual([
    `TEMPORAL_PROFILE: no profile "staging" in ${file}`,
  ]);
  // Keys the profile format does not know are refused, so a typo is not silently ignored.
  writeFileSync(file, '[profile.default]\naddres = "x:1"\n');
  expect(issues({ TEMPORAL_CONFIG_FILE: file })[0]).toMatch(/^TEMPORAL_CONFIG_FILE: .*unrecognized.*addres/);
});

test('loadConfig reports every bad value on its own line and keeps the API key out of the message', () => {
  let error: Error | undefined;
  try {
    loadConfig({
      PORT: 'abc',
      TEMPORAL_ADDRESS: 'nope',
      TEMPORAL_API_KEY: 'super-secret-key',
      TEMPORAL_TLS: 'x',
    });
  } catch (e) {
    error = e as Error;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect(error!.message.split('\n')).toEqual([
    expect.stringMatching(/^invalid configuration: PORT: /),
    'invalid configuration: TEMPORAL_TLS: expected true or false',
    'invalid configuration: TEMPORAL_ADDRESS: expected host:port',
  ]);
  expect(error!.message).not.toContain('super-secret-key');
  const config = loadConfig(mtlsEnv());
  expect(config.temporal).toMatchObject({ address: 'temporal.example:7233', namespace: 'default' });
  expect(config.temporal.connection.tls?.clientCertPair).toBeDefined();
});

test('PostgreSQL TLS: sslmode and the CA in DATABASE_URL or PGSSLROOTCERT, files checked at start', () => {
  const url = 'postgres://u:p@db.example:5432/herald';
  expect(resolveDatabaseUrl(url, {})).toEqual({ url, issues: [] });
  const withCa = resolveDatabaseUrl(url, { PGSSLROOTCERT: certs.ca });
  expect(withCa.issues).toEqual([]);
  const params = new URL(withCa.url!).searchParams;
  expect(params.get('sslrootcert')).toBe(certs.ca);
  expect(params.get('sslmode')).toBe('verify-full');
  expect(resolveDatabaseUrl(`${url}?sslmode=sometimes`, {}).issues).toEqual([
    'DATABASE_URL: sslmode must be one of disable, prefer, require, verify-ca, verify-full, no-verify',
  ]);
  expect(resolveDatabaseUrl(`${url}?sslmode=verify-full&sslrootcert=/nonexistent.pem`, {}).issues).toEqual([
    'DATABASE_URL: cannot read the sslrootcert file',
  ]);
  expect(resolveDatabaseUrl(url, { PGSSLROOTCERT: '/nonexistent.pem' }).issues).toContain(
    'PGSSLROOTCERT: cannot read the file',
  );
  expect(() => loadConfig({ DATABASE_URL: `${url}?sslmode=x` })).toThrow(/DATABASE_URL: sslmode/);
});
