// What the daemon scenarios serve and run: a throw-away CA, random images,
// an ISO, HTTPS servers (one open, one behind basic auth), the daemon itself
// on the guest's system bus, and bmcweb's credential pipe.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as rt from '../../../../codegen/runtime/index.js';
import { startStaticServer, type StaticServer } from '../https-static-server.js';
import { ROOT, SERVICE } from './media-client.js';
import { run, sleep } from './kernel-view.js';

export interface Image {
  path: string;
  name: string;
  bytes: number;
  sha256: string;
}

export async function makeCa(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  mkdirSync(dir, { recursive: true });
  const ca = join(dir, 'ca.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=virtual-media-e2e-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', join(dir, 'ca.key'), '-out', ca]);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.csr')]);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  await run('openssl', ['x509', '-req', '-in', join(dir, 'server.csr'), '-CA', ca, '-CAkey', join(dir, 'ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', join(dir, 'server.ext'), '-out', join(dir, 'server.pem')]);
  return { ca, cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

export function randomImage(dir: string, name: string, mib: number): Image {
  mkdirSync(dir, { recursive: true });
  const data = randomBytes(mib << 20);
  const path = join(dir, name);
  writeFileSync(path, data);
  return { path, name, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** An ISO 9660 image (xorriso, Rock Ridge) holding hello.txt and 1 MiB of filler (cdrom mode needs >= 600 KiB). */
export async function isoImage(dir: string, name: string, text: string): Promise<Image> {
  const tree = join(dir, `${name}.tree`);
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'hello.txt'), text);
  writeFileSync(join(tree, 'filler.bin'), randomBytes(1 << 20));
  const path = join(dir, name);
  await run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-V', 'E2E_DAEMON', '-o', path, tree]);
  const data = readFileSync(path);
  return { path, name, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

export async function httpsServers(root: string, tls: { cert: string; key: string }, auth: { user: string; password: string }): Promise<{ open: StaticServer; auth: StaticServer }> {
  const open = await startStaticServer({ root, certFile: tls.cert, keyFile: tls.key });
  const withAuth = await startStaticServer({ root, certFile: tls.cert, keyFile: tls.key, auth });
  return { open, auth: withAuth };
}

/** bmcweb's credentials: `user\0password\0` in a pipe; returns the read end (the write end is closed). */
export async function secretPipe(dir: string, user: string, password: string): Promise<number> {
  const fifo = join(dir, `secret-${process.hrtime.bigint()}`);
  await run('mkfifo', ['-m', '0600', fifo]);
  const readEnd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeEnd = openSync(fifo, constants.O_WRONLY);
  rmSync(fifo);
  writeSync(writeEnd, Buffer.from(`${user}\0${password}\0`, 'utf8'));
  closeSync(writeEnd);
  return readEnd;
}

/** The daemon as its systemd unit would run it, from source through tsx, on the system bus. */
export class DaemonRun {
  readonly log: string[] = [];
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    let partial = '';
    child.stderr!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        this.log.push(l);
        process.stdout.write(`[daemon] ${l}\n`);
      }
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  tail(n = 8): string {
    return this.log.slice(-n).join(' | ');
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timeout = sleep(30_000).then(() => 'timeout' as const);
    const code = await Promise.race([this.exited, timeout]);
    if (code === 'timeout') {
      this.child.kill('SIGKILL');
      throw new Error('the daemon did not exit within 30 s of SIGTERM');
    }
    return code;
  }
}

export async function startDaemon(repo: string, configFile: string, config: object, connection: rt.Connection): Promise<{ daemon: DaemonRun; readyMs: number }> {
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const started = Date.now();
  const daemon = new DaemonRun(
    spawn(process.execPath, ['--import', 'tsx', 'daemon/src/main.ts', '--config', configFile, '--bus', 'system', '--debug'], {
      cwd: repo,
      stdio: ['ignore', 'inherit', 'pipe'],
    }),
  );
  let exit: number | null | undefined;
  void daemon.exited.then((c) => (exit = c));
  for (;;) {
    if (exit !== undefined) throw new Error(`the daemon exited (${exit}) before serving: ${daemon.tail()}`);
    try {
      const objects = await rt.getManagedObjects(connection, SERVICE, ROOT, { timeoutMs: 2000 });
      if (objects.size > 0) return { daemon, readyMs: Date.now() - started };
    } catch {
      // not there yet
    }
    if (Date.now() - started > 60_000) {
      await daemon.stop().catch(() => undefined);
      throw new Error(`the daemon did not serve ${SERVICE} within 60 s: ${daemon.tail()}`);
    }
    await sleep(200);
  }
}
