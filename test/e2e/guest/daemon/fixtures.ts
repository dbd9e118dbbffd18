// What the daemon scenarios serve and run: a throw-away CA, random images,
// an ISO, HTTPS servers (one open, one behind basic auth), the daemon itself
// on the guest's system bus, and bmcweb's credential pipe.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as rt from '../../../../codegen/runtime/index.js';
import { startStaticServer, type StaticServer } from '../https-static-server.js';
import { ROOT, SERVICE } from './media-client.js';
import { run } from './kernel-view.js';

export interface Image {
  path: string;
  name: string;
  bytes: number;
  sha256: string;
}

export async function makeCa(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  mkdirSync(dir, { recursive: true });
  const ca = join(dir, 'ca.pem');
  // P-256 keys: an RSA key takes seconds to generate under TCG.
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=virtual-media-e2e-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', join(dir, 'ca.key'), '-out', ca]);
  await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.csr')]);
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

/** The layer's unit, as installed (test/e2e/vm/shipped-daemon.ts) and started by the guest's systemd. */
export const UNIT = 'xyz.openbmc_project.VirtualMedia.service';
/** The unit's --config; the guest script makes its directory writable (lib.sh writable_daemon_config). */
export const CONFIG_FILE = '/etc/virtual-media/config.json';
/**
 * Where files the daemon itself reads go (the CA of TlsCaFile): the unit's
 * PrivateTmp=yes gives it a /tmp of its own, so not under /tmp.
 */
export const DAEMON_VISIBLE_DIR = '/run/e2e-daemon';

async function systemctlShow(...properties: string[]): Promise<Record<string, string>> {
  const { stdout } = await run('systemctl', ['show', UNIT, ...properties.map((p) => `--property=${p}`)]);
  return Object.fromEntries(stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/**
 * The daemon as the image runs it: the release bundle installed by the
 * recipe, started by systemd from the layer's unit (sandboxing, capabilities,
 * Type=dbus) on the system bus behind the layer's D-Bus policy.
 */
export class SystemdDaemon {
  /** The unit's main process (the daemon's node), for its mount namespace and RSS. */
  async pid(): Promise<number> {
    return Number((await systemctlShow('MainPID')).MainPID);
  }

  /** What the daemon logged since `sinceMs` (epoch ms), with microsecond timestamps: when it handled a call. */
  async journalSince(sinceMs: number): Promise<string> {
    try {
      const { stdout } = await run('journalctl', ['--no-pager', '-o', 'short-precise', '--since', `@${(sinceMs / 1000).toFixed(3)}`, '-u', UNIT]);
      return stdout.trim().split('\n').join(' | ');
    } catch (e) {
      return `(journalctl failed: ${(e as Error).message})`;
    }
  }

  /** The last lines the daemon logged (its journal). */
  async tail(n = 8): Promise<string> {
    try {
      const { stdout } = await run('journalctl', ['--no-pager', '-o', 'cat', '-n', String(n), '-u', UNIT]);
      return stdout.trim().split('\n').join(' | ');
    } catch (e) {
      return `(journalctl failed: ${(e as Error).message})`;
    }
  }

  /**
   * Writes the config to the unit's --config path and (re)starts the unit.
   * systemctl returns once the daemon owns its name (Type=dbus);
   * startToNameMs is systemd's own count, from forking the daemon (sandbox
   * set-up included) to the name on the bus.
   */
  async start(config: object, connection: rt.Connection): Promise<{ startToNameMs: number }> {
    writeFileSync(CONFIG_FILE, JSON.stringify(config, null, 2));
    try {
      await run('systemctl', ['restart', UNIT]);
    } catch (e) {
      throw new Error(`systemctl restart ${UNIT} failed: ${(e as Error).message.trim()}; journal: ${await this.tail(12)}`);
    }
    const times = await systemctlShow('ExecMainStartTimestampMonotonic', 'ActiveEnterTimestampMonotonic');
    const startToNameMs = (Number(times.ActiveEnterTimestampMonotonic) - Number(times.ExecMainStartTimestampMonotonic)) / 1000;
    const objects = await rt.getManagedObjects(connection, SERVICE, ROOT, { timeoutMs: 20_000 });
    if (objects.size === 0) throw new Error(`${SERVICE} owns its name but serves no objects: ${await this.tail()}`);
    return { startToNameMs };
  }

  /**
   * systemctl stop (SIGTERM); resolves with the daemon's exit status, null
   * when a signal ended it (systemd counts a death by SIGTERM as success,
   * this does not).
   */
  async stop(): Promise<number | null> {
    await run('systemctl', ['stop', UNIT]);
    const { Result, ExecMainCode, ExecMainStatus } = await systemctlShow('Result', 'ExecMainCode', 'ExecMainStatus');
    if (Result !== 'success') throw new Error(`${UNIT} stopped with Result=${Result} (status ${ExecMainStatus}): ${await this.tail()}`);
    // ExecMainCode is a siginfo si_code: 2 = CLD_KILLED, 3 = CLD_DUMPED.
    return ExecMainCode === '2' || ExecMainCode === '3' ? null : Number(ExecMainStatus);
  }
}
