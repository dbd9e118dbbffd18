// virtual-media-serve: serves a local image to a BMC's proxy-mode virtual
// media, the way the web UI does from a browser, from a shell.
//
//   login (Redfish session) -> find the slot's WebSocketEndpoint -> open
//   wss://BMC/nbd/<id> with the session token -> serve NBD over it until
//   the host ejects, the BMC closes, or Ctrl-C -> close, delete the session.
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import type { ConnectionEnd } from '../core/server.js';
import { FileMedium } from '../node/file-medium.js';
import { serveWebSocket } from '../node/ws-transport.js';
import { obtainPassword, PASSWORD_ENV, type PasswordSources } from './password.js';
import { Progress, formatBytes } from './progress.js';
import { RedfishClient, type ProxySlot } from './redfish.js';

export const USAGE = `Usage: virtual-media-serve --bmc https://BMC [options] IMAGE
Serves IMAGE (a local file) to the BMC's proxy-mode virtual media over its
/nbd websocket; the server's host sees it as a USB disk or CD-ROM.

  --bmc URL            the BMC (https://host[:port])
  --user NAME          Redfish user name (default: root)
  --password-file F    read the password from F; otherwise $${PASSWORD_ENV};
                       otherwise it is asked for on the terminal
  --slot ID            VirtualMedia Id to use (default: the first proxy slot
                       that has no medium)
  --rw                 writable medium: the host's writes land in IMAGE
  --ca FILE            trust the CA certificate(s) in FILE (PEM) for the BMC
  --insecure           do not verify the BMC's certificate (not the default)
  --list               list the proxy-mode slots and exit
  --quiet              no progress lines
  --help               this text

Ends on Ctrl-C (the medium is ejected, the session deleted), when the host
ejects the medium, or when the BMC closes the connection.`;

export interface Io extends PasswordSources {
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  /** Where SIGINT/SIGTERM come from (process). */
  signals: NodeJS.EventEmitter;
}

class UsageError extends Error {}

/** SIGINT/SIGTERM handling for the whole run. */
class Stopper {
  private requested = false;
  private onStop: (() => void) | undefined;
  private onForce: (() => void) | undefined;
  /** While the websocket is being opened: abort the attempt. */
  beforeServing: (() => void) | undefined;
  private readonly handler = () => {
    if (this.requested) return this.onForce?.();
    this.requested = true;
    if (this.onStop) this.onStop();
    else this.beforeServing?.();
  };

  constructor(private readonly io: Io) {
    io.signals.on('SIGINT', this.handler);
    io.signals.on('SIGTERM', this.handler);
  }

  /** Throws once a stop was asked for (between setup steps). */
  check(): void {
    if (this.requested) throw new Error('interrupted');
  }

  whileServing(stop: () => void, force: () => void): void {
    this.onStop = stop;
    this.onForce = force;
    if (this.requested) stop();
  }

  dispose(): void {
    this.io.signals.off('SIGINT', this.handler);
    this.io.signals.off('SIGTERM', this.handler);
  }
}

export async function main(argv: string[], io: Io): Promise<number> {
  const say = (line: string) => io.stderr.write(`${line}\n`);
  let args;
  try {
    args = parseOptions(argv);
  } catch (e) {
    say(`virtual-media-serve: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const ca = args.ca ? await readFile(args.ca).catch((e: NodeJS.ErrnoException) => fail(`cannot read --ca ${args.ca}: ${e.code ?? e.message}`)) : undefined;
  const tls = { ca, rejectUnauthorized: !args.insecure };
  if (args.insecure) say('warning: --insecure: the BMC certificate is not verified');
  const agent = new Agent({ ...tls, keepAlive: true });
  const redfish = new RedfishClient(args.bmc, agent);
  let medium: FileMedium | undefined;
  // Ctrl-C from the first moment: before serving it stops at the next step
  // (the session, once made, is still deleted); while serving it ejects.
  const stopper = new Stopper(io);
  try {
    if (!args.list) medium = await FileMedium.open(args.image!, args.rw).catch((e: NodeJS.ErrnoException) => fail(`cannot open ${args.image}: ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)}`));
    const password = await obtainPassword(args.user, { ...io, file: args.passwordFile });
    stopper.check();
    await redfish.login(args.user, password);
    stopper.check();
    const slots = await redfish.proxySlots();
    stopper.check();
    if (args.list) {
      for (const s of slots) io.stdout.write(`${s.id}\t${s.endpoint}\t${s.inserted ? 'in use' : 'free'}\t${s.uri}\n`);
      return 0;
    }
    const slot = pickSlot(slots, args.slot);
    say(`serving ${args.image} (${formatBytes(medium!.size)}, ${args.rw ? 'read-write' : 'read-only'}) on ${slot.id} via ${slot.endpoint}`);
    const end = await serve(args, io, redfish, slot, medium!, tls, stopper);
    say(`ended: ${describeEnd(end)}`);
    return end.reason === 'protocol' ? 1 : 0;
  } catch (e) {
    say(`virtual-media-serve: ${(e as Error).message}`);
    return 1;
  } finally {
    stopper.dispose();
    await redfish.logout().catch((e: Error) => say(`warning: could not delete the Redfish session: ${e.message}`));
    agent.destroy();
    await medium?.close();
  }
}

async function serve(
  args: Options,
  io: Io,
  redfish: RedfishClient,
  slot: ProxySlot,
  medium: FileMedium,
  tls: { ca: Buffer | undefined; rejectUnauthorized: boolean },
  stopper: Stopper,
): Promise<ConnectionEnd & { closeCode?: number }> {
  const url = new URL(slot.endpoint, args.bmc);
  url.protocol = 'wss:';
  // bmcweb authenticates the upgrade like any request; with a token header
  // there is no cookie, so no CSRF subprotocol is needed.
  const ws = new WebSocket(url, { headers: { 'X-Auth-Token': redfish.token! }, ...tls });
  let closeCode: number | undefined;
  ws.on('close', (code) => (closeCode = code));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`websocket ${url.pathname}: the BMC answered ${res.statusCode} ${res.statusMessage ?? ''}`.trim())));
    ws.once('error', (e) => reject(new Error(`websocket ${url.pathname}: ${e.message}`)));
    stopper.beforeServing = () => (ws.terminate(), reject(new Error('interrupted')));
  });
  stopper.beforeServing = undefined;
  const connection = serveWebSocket(ws, medium, {
    name: basename(args.image!),
    readOnly: !args.rw,
    log: (line) => io.stderr.write(`nbd: ${line}\n`),
  });
  const progress = new Progress(connection.stats);
  const tty = io.stderr.isTTY === true;
  const timer = args.quiet
    ? undefined
    : setInterval(() => io.stderr.write(tty ? `\r\x1b[K${progress.line()}` : `${progress.line()}\n`), tty ? 1000 : 5000);
  stopper.whileServing(
    () => {
      if (tty) io.stderr.write('\n');
      io.stderr.write('stopping: closing the websocket (the BMC ejects the medium)\n');
      connection.close('interrupted');
    },
    () => ws.terminate(), // a second Ctrl-C: do not wait for anything
  );
  try {
    const end = await connection.done;
    // The websocket close handshake, briefly: bmcweb ejects once it sees the close.
    if (ws.readyState !== ws.CLOSED) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => (ws.terminate(), resolve()), 5000);
        ws.once('close', () => (clearTimeout(t), resolve()));
      });
    }
    // The totals, once, whatever the terminal (not with --quiet).
    if (!args.quiet) io.stderr.write(`${tty ? '\r\x1b[K' : ''}${progress.total()}\n`);
    return { ...end, ...(closeCode === undefined ? {} : { closeCode }) };
  } finally {
    if (timer) clearInterval(timer);
  }
}

function describeEnd(end: ConnectionEnd & { closeCode?: number }): string {
  const what = {
    disconnect: 'the host ejected the medium (NBD disconnect)',
    abort: 'the NBD client gave up during the handshake',
    peer: 'the BMC closed the websocket',
    protocol: 'the NBD client broke the protocol',
    local: 'stopped',
  }[end.reason];
  return `${what}${end.detail ? `: ${end.detail}` : ''}${end.closeCode !== undefined ? ` (websocket close ${end.closeCode})` : ''}`;
}

function pickSlot(slots: ProxySlot[], wanted: string | undefined): ProxySlot {
  const names = slots.map((s) => s.id).join(', ') || 'none';
  if (wanted !== undefined) {
    const s = slots.find((x) => x.id === wanted);
    if (!s) throw new Error(`no proxy-mode VirtualMedia slot ${wanted} (proxy slots: ${names})`);
    return s;
  }
  const free = slots.find((s) => !s.inserted);
  if (!free) throw new Error(slots.length ? `every proxy-mode slot is in use (${names}); pick one with --slot` : 'the BMC offers no proxy-mode VirtualMedia slot (no Oem.OpenBMC.WebSocketEndpoint)');
  return free;
}

interface Options {
  bmc: URL;
  user: string;
  passwordFile: string | undefined;
  slot: string | undefined;
  rw: boolean;
  ca: string | undefined;
  insecure: boolean;
  list: boolean;
  quiet: boolean;
  help: boolean;
  image: string | undefined;
}

function parseOptions(argv: string[]): Options {
  if (argv.some((a) => a === '--password' || a.startsWith('--password='))) {
    throw new UsageError(`--password is refused: a password on the command line is visible to every user (ps). Use --password-file or ${PASSWORD_ENV}`);
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      bmc: { type: 'string' },
      user: { type: 'string', default: 'root' },
      'password-file': { type: 'string' },
      slot: { type: 'string' },
      rw: { type: 'boolean', default: false },
      ca: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const help = values.help === true;
  if (help) return { help } as Options;
  if (!values.bmc) throw new UsageError('--bmc is required');
  let bmc: URL;
  try {
    bmc = new URL(values.bmc);
  } catch {
    throw new UsageError(`--bmc ${values.bmc} is not a URL`);
  }
  if (bmc.protocol !== 'https:') throw new UsageError(`--bmc must be an https:// URL (got ${bmc.protocol})`);
  if (values.ca && values.insecure) throw new UsageError('--ca and --insecure contradict each other');
  if (!values.list && positionals.length !== 1) throw new UsageError(positionals.length ? `one IMAGE expected, got ${positionals.length}` : 'IMAGE is missing');
  return {
    bmc,
    user: values.user!,
    passwordFile: values['password-file'],
    slot: values.slot,
    rw: values.rw === true,
    ca: values.ca,
    insecure: values.insecure === true,
    list: values.list === true,
    quiet: values.quiet === true,
    help,
    image: positionals[0],
  };
}

function fail(message: string): never {
  throw new Error(message);
}
