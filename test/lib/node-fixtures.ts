// SPDX-License-Identifier: MIT
// What the Node suites share (host and guest): real servers on loopback, a
// throwaway TLS certificate, and bindings that count or script the addon's
// syscall.

import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as tls from 'node:tls';
import { join } from 'node:path';
import type { Test } from 'tap';

import { binding, setBinding } from '../../lib/binding.js';
import { encodePeerRecord, type ScriptedPeer } from './peer-record-encode.js';

/** Listens on an ephemeral port of `host`, closes at teardown, resolves to the port. */
export async function listen(t: Test, server: net.Server, host = '127.0.0.1'): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  t.teardown(() => {
    (server as Partial<http.Server>).closeAllConnections?.();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

/** The server side of the next connection, and the client that made it. */
export async function connectPair(
  t: Test,
  server: net.Server,
  host = '127.0.0.1',
): Promise<{ accepted: net.Socket; client: net.Socket }> {
  return connectTo(t, server, await listen(t, server, host), host);
}

/** A client connection from `host` to a server already listening on `port`, and its accepted side (once connected). */
export async function connectTo(t: Test, server: net.Server, port: number, host: string): Promise<{ accepted: net.Socket; client: net.Socket }> {
  const client = net.connect(port, host);
  t.teardown(() => client.destroy());
  const [[accepted]] = (await Promise.all([once(server, 'connection'), once(client, 'connect')])) as [[net.Socket], unknown];
  return { accepted, client };
}

/** A TLS connection to a new tls server with the self-signed certificate: its TCP socket and its TLS socket on the server's side. */
export async function tlsPair(t: Test): Promise<{ rawSocket: net.Socket; tlsSocket: tls.TLSSocket }> {
  const { key, cert } = selfSigned();
  const server = tls.createServer({ key, cert });
  const port = await listen(t, server);
  const raw = once(server, 'connection') as Promise<[net.Socket]>;
  const secure = once(server, 'secureConnection') as Promise<[tls.TLSSocket]>;
  const connection = tls.connect({ port, host: '127.0.0.1', ca: cert, servername: 'localhost' });
  t.teardown(() => connection.destroy());
  const [[rawSocket], [tlsSocket]] = await Promise.all([raw, secure]);
  return { rawSocket, tlsSocket };
}

export interface SyscallLog {
  calls: Array<{ fd: number; optname: number }>;
}

/** What a scripted addon answers: the peer the module would report, or an errno (positive, as `os.constants.errno` has it). */
export type ScriptedAnswer = ScriptedPeer | number;

/**
 * Puts `answer` in place of the addon until the test ends; logs each call. A
 * peer is written into the caller's record as the module would write it.
 */
export function scriptBinding(t: Test, answer: (fd: number, optname: number) => ScriptedAnswer): SyscallLog {
  const log: SyscallLog = { calls: [] };
  const record = new Uint8Array(20);
  setBinding({
    record,
    getPeer(fd, optname) {
      log.calls.push({ fd, optname });
      const result = answer(fd, optname);
      // The addon returns an errno negated, as Node's system errors carry it.
      if (typeof result === 'number') return -result;
      encodePeerRecord(result, record);
      return 0;
    },
  });
  t.teardown(() => setBinding(undefined));
  return log;
}

/** The real addon, with each syscall logged. */
export function countSyscalls(t: Test): SyscallLog {
  const real = binding();
  const log: SyscallLog = { calls: [] };
  setBinding({
    record: real.record,
    getPeer(fd, optname) {
      log.calls.push({ fd, optname });
      return real.getPeer(fd, optname);
    },
  });
  t.teardown(() => setBinding(undefined));
  return log;
}

/** A binding that answers every connection with `peer`, as the module would. */
export function answerWith(t: Test, peer: ScriptedPeer): SyscallLog {
  return scriptBinding(t, () => peer);
}

let certificate: { key: Buffer; cert: Buffer } | undefined;

/** A self-signed certificate for localhost, made once per process with the openssl CLI. */
export function selfSigned(): { key: Buffer; cert: Buffer } {
  if (certificate !== undefined) return certificate;
  const dir = mkdtempSync(join(tmpdir(), 'kgwttm-cert-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    certificate = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
    return certificate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface GetOptions {
  /** Default 127.0.0.1 (`localhost` when `ca` is given, to match the certificate). */
  host?: string;
  /** HTTPS, trusting this certificate. */
  ca?: Buffer;
}

/** GETs `/` `count` times over one keep-alive connection (HTTPS with `ca`); resolves to the bodies. */
export async function getKeepAlive(port: number, count: number, { host, ca }: GetOptions = {}): Promise<string[]> {
  const client = ca === undefined ? http : https;
  const agent = new client.Agent({ keepAlive: true, maxSockets: 1, ...(ca && { ca }) });
  try {
    const bodies: string[] = [];
    for (let i = 0; i < count; i++) {
      const response = await new Promise<http.IncomingMessage>((resolve, reject) =>
        client.get({ host: host ?? (ca ? 'localhost' : '127.0.0.1'), port, agent }, resolve).on('error', reject),
      );
      let body = '';
      for await (const chunk of response) body += String(chunk);
      bodies.push(body);
    }
    return bodies;
  } finally {
    agent.destroy();
  }
}

/** Sends `count` HTTP/2 requests over one session to `authority`; resolves to the bodies. */
export async function http2Requests(
  authority: string,
  count: number,
  options: http2.SecureClientSessionOptions = {},
): Promise<string[]> {
  const session = http2.connect(authority, options);
  try {
    const bodies: string[] = [];
    for (let i = 0; i < count; i++) {
      const stream = session.request({ ':path': `/${i}` });
      let body = '';
      stream.setEncoding('utf8');
      for await (const chunk of stream) body += String(chunk);
      bodies.push(body);
    }
    return bodies;
  } finally {
    session.close();
  }
}

/** Starts examples/node/`file` on an ephemeral port; resolves to the port it prints. Killed at teardown. */
export async function startExample(t: Test, file: string, env: NodeJS.ProcessEnv = {}): Promise<number> {
  const path = join(__dirname, '..', '..', 'examples', 'node', file);
  const child = spawn(process.execPath, [...(file.endsWith('.ts') ? ['--import', 'tsx'] : []), path], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => void child.kill());
  let output = '';
  child.stdout.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`${file} exited with ${code}: ${output}`)));
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      const match = /listening on (\d+)/.exec(output);
      if (match !== null) resolve(Number(match[1]));
    });
  });
}
