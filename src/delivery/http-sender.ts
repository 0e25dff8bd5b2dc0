import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { blockedReason, type Cidr, ipLiteral } from './address-policy';

export const RESPONSE_BODY_LIMIT = 64 * 1024;

export type SendErrorKind = 'dns' | 'connect' | 'tls' | 'timeout' | 'blocked' | 'network';

export interface OutgoingRequest {
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export type SendResult =
  | { ok: true; status: number; headers: Record<string, string>; body: Buffer; durationMs: number }
  | { ok: false; kind: SendErrorKind; message: string; durationMs: number };

class BlockedAddressError extends Error {
  readonly code = 'EHERALDBLOCKED';
}

/**
 * An HTTP client for webhook requests. Every address is judged where it is dialled: IP literals
 * before the request, names inside the socket's DNS lookup, so a name that resolves to a public
 * address at check time and a private one at connect time (DNS rebinding) is still caught.
 * Redirects are never followed (Node's client does not follow them).
 */
export function createHttpSender(opts: { allowedNetworks: Cidr[] }) {
  const guardedLookup: LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      for (const a of list) {
        const reason = blockedReason(a.address, opts.allowedNetworks);
        if (reason) return callback(new BlockedAddressError(`${hostname} resolves to ${reason}`), '', 0);
      }
      if ((options as dns.LookupOptions).all) return callback(null, list as never);
      return callback(null, list[0].address, list[0].family);
    });
  };
  const agentOptions = { keepAlive: true, maxSockets: 256, lookup: guardedLookup };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

  function send(request: OutgoingRequest): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const url = new URL(request.url);
    const literal = ipLiteral(url.hostname);
    const literalBlock = literal ? blockedReason(literal, opts.allowedNetworks) : undefined;
    if (literalBlock)
      return Promise.resolve({ ok: false, kind: 'blocked', message: literalBlock, durationMs: 0 });
    const protocol = url.protocol === 'https:' ? https : http;

    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = protocol.request(url, {
        method: request.method,
        headers: request.headers,
        agent: agents[url.protocol as 'http:' | 'https:'],
      });
      const timer = setTimeout(() => {
        finish({
          ok: false,
          kind: 'timeout',
          message: `no complete response within ${request.timeoutMs} ms`,
          durationMs: elapsed(),
        });
        req.destroy();
      }, request.timeoutMs);
      req.on('error', (err) => finish({ ok: false, ...classify(err), durationMs: elapsed() }));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < RESPONSE_BODY_LIMIT) chunks.push(chunk.subarray(0, RESPONSE_BODY_LIMIT - size));
          size += chunk.length;
        });
        res.on('error', (err) => finish({ ok: false, ...classify(err), durationMs: elapsed() }));
        res.on('end', () =>
          finish({
            ok: true,
            status: res.statusCode ?? 0,
            headers: flattenHeaders(res.headers),
            body: Buffer.concat(chunks),
            durationMs: elapsed(),
          }),
        );
      });
      req.end(request.body);
    });
  }

  return {
    send,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

export type HttpSender = ReturnType<typeof createHttpSender>;

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function classify(err: NodeJS.ErrnoException): { kind: SendErrorKind; message: string } {
  if (err instanceof BlockedAddressError) return { kind: 'blocked', message: err.message };
  const code = err.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA')
    return { kind: 'dns', message: err.message };
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT')
    return { kind: 'connect', message: err.message };
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /certificate|ssl|tls/i.test(err.message))
    return { kind: 'tls', message: err.message };
  return { kind: 'network', message: err.message || code };
}
