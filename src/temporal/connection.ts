import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import {
  type ClientConfigProfile,
  type ConfigDataSource,
  loadClientConfigProfile,
} from '@temporalio/envconfig';

/**
 * How Herald reaches Temporal: address, namespace, TLS (mutual or not) and API key, read by
 * Temporal's own loader (@temporalio/envconfig) from the standard `TEMPORAL_*` variables and the
 * profile file (`TEMPORAL_CONFIG_FILE`, else ~/.config/temporalio/temporal.toml; `TEMPORAL_PROFILE`
 * picks the profile), so an operator configures Herald exactly as the `temporal` CLI and every other
 * SDK. On top of the loader, every value is checked at start (files readable, PEM parseable, key
 * matching certificate, certificate in date) so a mistake stops the process with one line naming
 * the variable, instead of an opaque handshake failure later.
 */
export interface TemporalConnection {
  /** `host:port`; undefined when nothing names one (`npm start` then runs an embedded server). */
  address: string | undefined;
  namespace: string;
  /** TLS for the SDK; undefined: plaintext. An API key turns it on, as Temporal Cloud expects. */
  tls: TLSConfig | undefined;
  /** A secret: never logged (see `describe`). */
  apiKey: string | undefined;
  /** gRPC headers from TEMPORAL_GRPC_META_* or the profile. */
  metadata: Record<string, string> | undefined;
}

/** The variables the loader reads, so the README and the checks below name the same ones. */
const TLS_SOURCES = {
  clientCert: { env: 'TEMPORAL_TLS_CLIENT_CERT', toml: 'tls.client_cert' },
  clientKey: { env: 'TEMPORAL_TLS_CLIENT_KEY', toml: 'tls.client_key' },
  serverCACert: { env: 'TEMPORAL_TLS_SERVER_CA_CERT', toml: 'tls.server_ca_cert' },
} as const;
type TlsSource = keyof typeof TLS_SOURCES;

const BOOLEAN = /^(true|false|1|0)$/;

/**
 * Reads and checks the connection settings. Returns them with an empty `issues`, or the problems,
 * one line each, naming the variable (or profile key) at fault and never echoing its value.
 */
export function loadTemporalConnection(env: Record<string, string | undefined>): {
  connection: TemporalConnection;
  issues: string[];
} {
  const issues: string[] = [];
  const fallback: TemporalConnection = {
    address: undefined,
    namespace: 'default',
    tls: undefined,
    apiKey: undefined,
    metadata: undefined,
  };
  // The loader reads TEMPORAL_TLS as true only for "true" and "1", anything else silently as false.
  for (const name of ['TEMPORAL_TLS', 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION'])
    if (env[name] !== undefined && !BOOLEAN.test(env[name])) issues.push(`${name}: expected true or false`);
  // The loader reads it, but the TypeScript SDK has no such switch: refuse rather than ignore it.
  if (
    env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === 'true' ||
    env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === '1'
  )
    issues.push(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: not supported here; set TEMPORAL_TLS_SERVER_NAME to a name the certificate carries',
    );

  // The loader skips a missing file silently: right for the default location, not for a named one.
  if (env.TEMPORAL_CONFIG_FILE !== undefined && !existsSync(env.TEMPORAL_CONFIG_FILE))
    issues.push('TEMPORAL_CONFIG_FILE: no such file');

  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: definedOnly(env), configFileStrict: true });
  } catch (err) {
    issues.push(loaderIssue(env, (err as Error).message));
    return { connection: fallback, issues };
  }

  const where = (field: 'address' | 'namespace' | 'api_key', variable: string) =>
    env[variable] !== undefined ? variable : profileKey(env, field);
  if (profile.address !== undefined && !/^[^\s:/]+:\d+$/.test(profile.address))
    issues.push(`${where('address', 'TEMPORAL_ADDRESS')}: expected host:port`);
  if (profile.namespace !== undefined && profile.namespace.trim() === '')
    issues.push(`${where('namespace', 'TEMPORAL_NAMESPACE')}: must not be empty`);
  if (profile.apiKey !== undefined && profile.apiKey.trim() === '')
    issues.push(`${where('api_key', 'TEMPORAL_API_KEY')}: must not be empty`);

  const tls = checkTls(env, profile, issues);
  const connection: TemporalConnection = {
    address: profile.address,
    namespace: profile.namespace || 'default',
    // As the loader's own toClientOptions: explicit TLS settings, else TLS whenever there is a key.
    tls: tls === false ? undefined : (tls ?? (profile.apiKey ? {} : undefined)),
    apiKey: profile.apiKey,
    metadata: profile.grpcMeta,
  };
  return { connection, issues };
}

/** The TLS settings, `false` when explicitly off, undefined when none are given; problems go to `issues`. */
function checkTls(
  env: Record<string, string | undefined>,
  profile: ClientConfigProfile,
  issues: string[],
): TLSConfig | false | undefined {
  const tls = profile.tls;
  if (!tls) return undefined;
  const given = (Object.keys(TLS_SOURCES) as TlsSource[]).filter((s) => tls[s] !== undefined);
  if (tls.disabled) {
    if (given.length)
      issues.push(
        `TEMPORAL_TLS: is false, but ${given.map((s) => sourceName(env, s, tls[s]!)).join(' and ')} ${given.length > 1 ? 'are' : 'is'} set`,
      );
    return false;
  }
  const pem: Partial<Record<TlsSource, Buffer>> = {};
  for (const s of given) {
    const source = tls[s]!;
    try {
      pem[s] = 'path' in source ? readFileSync(source.path) : Buffer.from(source.data);
    } catch (err) {
      issues.push(
        `${sourceName(env, s, source)}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  if (tls.clientCert && !tls.clientKey)
    issues.push(
      `${TLS_SOURCES.clientKey.env}_PATH: required with ${sourceName(env, 'clientCert', tls.clientCert)}`,
    );
  if (tls.clientKey && !tls.clientCert)
    issues.push(
      `${TLS_SOURCES.clientCert.env}_PATH: required with ${sourceName(env, 'clientKey', tls.clientKey)}`,
    );

  let certificate: X509Certificate | undefined;
  if (pem.clientCert) {
    certificate = parseCertificate(pem.clientCert);
    const name = sourceName(env, 'clientCert', tls.clientCert!);
    if (!certificate) issues.push(`${name}: not a PEM certificate`);
    else {
      const now = Date.now();
      if (Date.parse(certificate.validTo) < now)
        issues.push(`${name}: the certificate expired on ${new Date(certificate.validTo).toISOString()}`);
      else if (Date.parse(certificate.validFrom) > now)
        issues.push(
          `${name}: the certificate is not valid before ${new Date(certificate.validFrom).toISOString()}`,
        );
    }
  }
  if (pem.clientKey) {
    const name = sourceName(env, 'clientKey', tls.clientKey!);
    let key: ReturnType<typeof createPrivateKey> | undefined;
    try {
      key = createPrivateKey(pem.clientKey);
    } catch {
      issues.push(`${name}: not a PEM private key`);
    }
    if (key && certificate && !certificate.checkPrivateKey(key))
      issues.push(`${name}: the key does not belong to ${sourceName(env, 'clientCert', tls.clientCert!)}`);
  }
  if (pem.serverCACert && !parseCertificate(pem.serverCACert))
    issues.push(`${sourceName(env, 'serverCACert', tls.serverCACert!)}: not a PEM certificate`);
  if (tls.serverName !== undefined && tls.serverName.trim() === '')
    issues.push(
      `${env.TEMPORAL_TLS_SERVER_NAME !== undefined ? 'TEMPORAL_TLS_SERVER_NAME' : profileKey(env, 'tls.server_name')}: must not be empty`,
    );

  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: pem.serverCACert,
    clientCertPair: pem.clientCert && pem.clientKey ? { crt: pem.clientCert, key: pem.clientKey } : undefined,
  };
}

/** Options for `NativeConnection.connect` (worker, API) and `Connection.connect` (start-up check). */
export function connectionOptions(connection: TemporalConnection, address: string) {
  return {
    address,
    tls: connection.tls,
    apiKey: connection.apiKey,
    metadata: connection.metadata,
  };
}

/** For logs and error lines: where and how, never the key or certificate material. */
export function describeConnection(connection: TemporalConnection): string {
  const security = !connection.tls ? 'plaintext' : connection.tls.clientCertPair ? 'mutual TLS' : 'TLS';
  return `${security}${connection.apiKey ? ' with an API key' : ''}`;
}

/**
 * Opens one TLS connection as the SDK would (same certificate, key, CA and server name) and speaks
 * the first HTTP/2 frames, so a refusal comes back as the TLS library's own reason. The SDKs report
 * every one of these as a bare "failed to connect" or "connection closed": the server rejects a
 * client certificate only after the client's side of the TLS 1.3 handshake is done, and the alert
 * that says why is read by nobody. Resolves undefined when the server answers HTTP/2.
 */
export function probeTls(
  connection: TemporalConnection,
  address: string,
  timeoutMs = 5_000,
): Promise<string | undefined> {
  const tlsConfig = connection.tls;
  if (!tlsConfig) return Promise.resolve(undefined);
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  const servername = tlsConfig.serverNameOverride ?? (net.isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port,
      servername,
      ALPNProtocols: ['h2'],
      ca: tlsConfig.serverRootCACertificate ? Buffer.from(tlsConfig.serverRootCACertificate) : undefined,
      cert: tlsConfig.clientCertPair ? Buffer.from(tlsConfig.clientCertPair.crt) : undefined,
      key: tlsConfig.clientCertPair ? Buffer.from(tlsConfig.clientCertPair.key) : undefined,
      // The SDK checks the name it was given (TEMPORAL_TLS_SERVER_NAME) against the certificate.
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(servername ?? host, cert),
    });
    const done = (reason: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs); // no verdict: leave it to the SDK
    // The HTTP/2 preface and an empty SETTINGS frame: the server answers with its SETTINGS once it
    // has accepted the handshake, or with an alert when it refuses the certificate.
    socket.once('secureConnect', () =>
      socket.write(
        Buffer.concat([
          Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
          Buffer.from('000000040000000000', 'hex'),
        ]),
      ),
    );
    socket.once('data', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(explainTlsError(connection, err)));
    socket.once('end', () =>
      done(
        explainTlsError(connection, Object.assign(new Error('connection closed'), { code: 'ECONNRESET' })),
      ),
    );
  });
}

/** A TLS failure in words an operator can act on, naming the variable to change. */
export function explainTlsError(connection: TemporalConnection, err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  const mtls = Boolean(connection.tls?.clientCertPair);
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' || (!mtls && code === 'ECONNRESET'))
    return 'the server requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH';
  if (
    /ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|DECRYPT_ERROR|ACCESS_DENIED)/.test(code) ||
    (mtls && code === 'ECONNRESET')
  )
    return 'the server refused the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH): it is not signed by a CA the server trusts';
  if (
    code === 'ERR_SSL_TLSV1_ALERT_CERTIFICATE_EXPIRED' ||
    code === 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED'
  )
    return 'the server refused the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH): it has expired';
  if (/UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED/.test(code))
    return "the server's certificate is not trusted: set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that signed it";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return "the server's certificate does not carry this name: set TEMPORAL_TLS_SERVER_NAME to a name it carries";
  if (code === 'CERT_HAS_EXPIRED') return "the server's certificate has expired";
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|RECORD_LAYER/.test(code))
    return 'the server does not speak TLS on this port: unset TEMPORAL_TLS and the TEMPORAL_TLS_* certificate variables';
  return err.message;
}

function parseCertificate(pem: Buffer): X509Certificate | undefined {
  if (!pem.toString('utf8').includes('-----BEGIN CERTIFICATE-----')) return undefined;
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/** The variable that gave a TLS value, or the profile key when it came from the file. */
function sourceName(env: Record<string, string | undefined>, s: TlsSource, source: ConfigDataSource): string {
  const kind = 'path' in source ? 'PATH' : 'DATA';
  const variable = `${TLS_SOURCES[s].env}_${kind}`;
  return env[variable] !== undefined
    ? variable
    : profileKey(env, `${TLS_SOURCES[s].toml}_${kind.toLowerCase()}`);
}

function profileKey(env: Record<string, string | undefined>, key: string): string {
  return `${env.TEMPORAL_CONFIG_FILE ?? 'temporal.toml'} profile "${env.TEMPORAL_PROFILE ?? 'default'}" ${key}`;
}

/** The loader's own errors, reworded to name variables where it names TOML keys. */
function loaderIssue(env: Record<string, string | undefined>, message: string): string {
  const both = /Cannot specify both (\w+)_path and \w+_data/.exec(message);
  if (both) {
    const s = (Object.keys(TLS_SOURCES) as TlsSource[]).find(
      (k) => TLS_SOURCES[k].toml === `tls.${both[1]}`,
    )!;
    return `${TLS_SOURCES[s].env}_PATH and ${TLS_SOURCES[s].env}_DATA: set one, not both`;
  }
  if (/Profile '.*' not found/.test(message))
    return `TEMPORAL_PROFILE: no profile "${env.TEMPORAL_PROFILE}" in ${env.TEMPORAL_CONFIG_FILE ?? 'the profile file'}`;
  const file = env.TEMPORAL_CONFIG_FILE ? 'TEMPORAL_CONFIG_FILE' : 'the Temporal profile file';
  return `${file}: ${message.split('\n')[0]}`;
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
