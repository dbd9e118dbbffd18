// A tiny static HTTPS server for the e2e scenarios and the VM bench: serves
// the files of one directory with single-range support (what nbdkit's curl
// plugin asks for), optional HTTP basic auth and an optional per-request delay.
//
//   node --import tsx https-static-server.ts --root DIR --cert CERT --key KEY
//        [--port N (0 = any)] [--port-file FILE] [--auth-file FILE (user\0password)]
//        [--delay-ms N] [--log-file FILE]
//
// Writes the port it listens on to --port-file once listening (atomically).
// The log file gets one JSON line per request (method, range, status, bytes).
// startStaticServer() is the same server inside another node program (the
// daemon driver); there, never read the served disk synchronously: the reads
// wait for this event loop to answer nbdkit.
import { appendFileSync, createReadStream, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { join, normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export interface StaticServerOptions {
  root: string;
  certFile: string;
  keyFile: string;
  /** 0 (default) = any free port */
  port?: number;
  /** Basic auth required when given. */
  auth?: { user: string; password: string };
  delayMs?: number;
  logFile?: string;
}

export interface StaticServer {
  port: number;
  /** Requests answered so far, by status. */
  readonly statuses: Map<number, number>;
  close(): Promise<void>;
}

/** "user\0password" (a trailing \0 or newline is ignored), as in the auth file. */
export function readAuthFile(file: string): { user: string; password: string } {
  const [user, password] = readFileSync(file, 'utf8').replace(/[\0\n]+$/, '').split('\0');
  if (user === undefined || password === undefined) throw new Error(`auth file ${file} is not user\\0password`);
  return { user, password };
}

// One "bytes=a-b" / "bytes=a-" / "bytes=-n" range; undefined = not satisfiable or not understood.
function parseRange(header: string, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return undefined;
  return { start, end };
}

export function startStaticServer(o: StaticServerOptions): Promise<StaticServer> {
  const root = normalize(o.root);
  const expectedAuth = o.auth ? Buffer.from(`Basic ${Buffer.from(`${o.auth.user}:${o.auth.password}`).toString('base64')}`) : undefined;
  const statuses = new Map<number, number>();
  const log = (entry: Record<string, unknown>): void => {
    const status = Number(entry.status);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (o.logFile) appendFileSync(o.logFile, `${JSON.stringify(entry)}\n`);
  };
  const authorized = (req: IncomingMessage): boolean => {
    if (!expectedAuth) return true;
    const got = Buffer.from(req.headers.authorization ?? '');
    return got.length === expectedAuth.length && timingSafeEqual(got, expectedAuth);
  };
  const resolveFile = (url: string | undefined): string | undefined => {
    const path = decodeURIComponent(new URL(url ?? '/', 'https://x').pathname);
    const full = normalize(join(root, path));
    if (full !== root && !full.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined;
    return full;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const entry: Record<string, unknown> = { method: req.method, url: req.url, range: req.headers.range };
    const finish = (status: number, headers: Record<string, string | number> = {}): void => {
      res.writeHead(status, headers);
      res.end();
      log({ ...entry, status, bytes: 0 });
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return finish(405, { Allow: 'GET, HEAD' });
    if (!authorized(req)) return finish(401, { 'WWW-Authenticate': 'Basic realm="virtual-media-e2e"' });
    const file = resolveFile(req.url);
    let size: number;
    try {
      if (!file) throw new Error('outside root');
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      return finish(404);
    }
    const range = req.headers.range ? parseRange(req.headers.range, size) : { start: 0, end: size - 1 };
    if (!range) return finish(416, { 'Content-Range': `bytes */${size}` });
    const status = req.headers.range ? 206 : 200;
    const length = size === 0 ? 0 : range.end - range.start + 1;
    const headers: Record<string, string | number> = {
      'Accept-Ranges': 'bytes',
      'Content-Length': length,
      'Content-Type': 'application/octet-stream',
      'Last-Modified': new Date(0).toUTCString(),
    };
    if (status === 206) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      log({ ...entry, status, bytes: 0 });
      return;
    }
    createReadStream(file as string, { start: range.start, end: range.end })
      .on('error', () => res.destroy())
      .on('end', () => log({ ...entry, status, bytes: length }))
      .pipe(res);
  };

  const server: Server = createServer({ cert: readFileSync(o.certFile), key: readFileSync(o.keyFile) }, (req, res) => {
    if (o.delayMs) setTimeout(() => handle(req, res), o.delayMs);
    else handle(req, res);
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : 0,
        statuses,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      root: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      port: { type: 'string', default: '0' },
      'port-file': { type: 'string' },
      'auth-file': { type: 'string' },
      'delay-ms': { type: 'string', default: '0' },
      'log-file': { type: 'string' },
    },
  });
  if (!values.root || !values.cert || !values.key) {
    process.stderr.write('usage: https-static-server --root DIR --cert CERT --key KEY [--port N] [--port-file F] [--auth-file F] [--delay-ms N] [--log-file F]\n');
    process.exit(2);
  }
  const server = await startStaticServer({
    root: values.root,
    certFile: values.cert,
    keyFile: values.key,
    port: Number(values.port),
    delayMs: Number(values['delay-ms']),
    ...(values['auth-file'] ? { auth: readAuthFile(values['auth-file']) } : {}),
    ...(values['log-file'] ? { logFile: values['log-file'] } : {}),
  });
  if (values['port-file']) {
    writeFileSync(`${values['port-file']}.tmp`, `${server.port}\n`);
    renameSync(`${values['port-file']}.tmp`, values['port-file']);
  }
  process.stderr.write(`https-static-server: serving ${values.root} on https://127.0.0.1:${server.port}/\n`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void server.close().then(() => process.exit(0)));
}

// Run as a program only when it is the script itself, not inside a bundle
// (the demo bundles its guest side, and there import.meta.url is the bundle's).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && /https-static-server\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) await main();
