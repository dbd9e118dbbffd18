// A local HTTPS image server for legacy-mode tests: a CA and a server
// certificate made with openssl at test time, Range requests (what nbdkit's
// curl plugin issues), optional Basic authentication, and a request log.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { requireCommand } from '../../support/require-command.js';

export interface Pki {
  caFile: string;
  key: Buffer;
  cert: Buffer;
}

/** A throw-away CA and a certificate for 127.0.0.1/localhost signed by it. */
export function makePki(dir: string, name = 'ca'): Pki {
  requireCommand('openssl', 'openssl');
  const f = (n: string) => join(dir, `${name}-${n}`);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-subj', `/CN=Test CA ${name}`, '-days', '2']);
  run(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost']);
  writeFileSync(f('ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('ext')]);
  return { caFile: f('ca.crt'), key: readFileSync(f('server.key')), cert: readFileSync(f('server.crt')) };
}

export interface ImageServer {
  url(path: string): string;
  /** Every request: method, path, Range, Authorization present. */
  readonly requests: { method: string; path: string; range: string | undefined; authorized: boolean }[];
  /** Bytes of image data sent. */
  bytesSent: number;
  close(): Promise<void>;
}

export async function startImageServer(pki: Pki, files: Record<string, Buffer>, auth?: { user: string; password: string }, delayMs = 0): Promise<ImageServer> {
  const requests: ImageServer['requests'] = [];
  const state = { bytesSent: 0 };
  const expected = auth ? 'Basic ' + Buffer.from(`${auth.user}:${auth.password}`).toString('base64') : undefined;
  const server: Server = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
    const authorized = expected === undefined || req.headers.authorization === expected;
    requests.push({ method: req.method ?? '', path: req.url ?? '', range: req.headers.range, authorized });
    if (!authorized) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="images"' }).end();
      return;
    }
    const data = files[req.url ?? ''];
    if (!data) {
      res.writeHead(404).end();
      return;
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const send = () => {
      if (!range) {
        res.writeHead(200, { 'Content-Length': data.length, 'Accept-Ranges': 'bytes' });
        if (req.method === 'HEAD') return res.end();
        state.bytesSent += data.length;
        return res.end(data);
      }
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : data.length - 1, data.length - 1);
      const slice = data.subarray(start, end + 1);
      res.writeHead(206, { 'Content-Length': slice.length, 'Content-Range': `bytes ${start}-${end}/${data.length}`, 'Accept-Ranges': 'bytes' });
      if (req.method === 'HEAD') return res.end();
      state.bytesSent += slice.length;
      res.end(slice);
    };
    // A slow link: every request pays a round-trip delay.
    if (delayMs) setTimeout(send, delayMs);
    else send();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (p) => `https://127.0.0.1:${port}${p}`,
    requests,
    get bytesSent() {
      return state.bytesSent;
    },
    set bytesSent(v: number) {
      state.bytesSent = v;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
