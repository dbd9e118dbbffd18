// Proxy mode's data path, side by side in one run: nbdcopy reading a file
// (a) served by virtual-media-serve (the CLI as shipped, a child process)
// through the fake bmcweb's websocket relay; (b) served by nbdkit's file
// plugin listening on the same unix socket path (the brief's comparison:
// everything the proxy path adds, TLS, websocket framing and masking, a
// relay hop, is charged to it); (c) served by nbdkit through the same
// websocket relay, bridged by a byte pipe (bench/nbd-bridge.ts): same
// transport, only the NBD server differs. One connection and the same
// request depth everywhere (the kernel's nbd-client behind bmcweb uses one
// connection). Interleaved rounds, medians of per-round ratios.
// Targets: (a) >= 0.9x (b), and (a) >= 0.9x (c).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePki } from '../test/daemon/support/tls-server.js';
import { CliProcess } from '../test/nbd/support/cli-process.js';
import { FakeBmcweb } from '../test/nbd/support/fake-bmcweb.js';
import { mustRun } from '../test/nbd/support/run.js';
import { requireCommand } from '../test/support/require-command.js';
import { median, type Row } from './row.js';

const ROUNDS = Number(process.env.BENCH_NBD_ROUNDS ?? 5);
const MIB = Number(process.env.BENCH_NBD_MIB ?? 256);
const BRIDGE = join(dirname(fileURLToPath(import.meta.url)), 'nbd-bridge.ts');
const NBDCOPY_ARGS = ['--connections=1', '--requests=16', '--request-size=131072'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timeCopy(socket: string): Promise<number> {
  const t0 = performance.now();
  await mustRun('nbdcopy', [...NBDCOPY_ARGS, `nbd+unix:///?socket=${socket}`, 'null:'], { timeoutMs: 300_000 });
  return (performance.now() - t0) / 1000;
}

async function viaRelay(bmc: FakeBmcweb, caFile: string, image: string): Promise<number> {
  const cli = new CliProcess(['--bmc', bmc.url, '--ca', caFile, '--quiet', image], { BMC_PASSWORD: 'bench' });
  const socket = await bmc.mounted('Slot_0');
  const seconds = await timeCopy(socket);
  const code = await cli.exit(30_000);
  if (code !== 0) throw new Error(`virtual-media-serve exited ${code}: ${cli.stderr}`);
  return seconds;
}

async function viaNbdkit(socket: string, image: string, bridged?: { bmc: FakeBmcweb; caFile: string }): Promise<number> {
  const child: ChildProcess = spawn('nbdkit', ['--unix', socket, '--foreground', '--readonly', '--exit-with-parent', 'file', `file=${image}`], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 200 && !existsSync(socket); i++) await sleep(25);
    if (!bridged) return await timeCopy(socket);
    const bridge = spawn(process.execPath, ['--import', 'tsx', BRIDGE, bridged.bmc.url, bridged.caFile, socket], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, BMC_PASSWORD: 'bench' } });
    const exited = new Promise((r) => bridge.once('exit', r));
    const seconds = await timeCopy(await bridged.bmc.mounted('Slot_0'));
    await exited;
    return seconds;
  } finally {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
    rmSync(socket, { force: true });
  }
}

export async function run(): Promise<Row[]> {
  requireCommand('nbdcopy', 'libnbd-bin');
  requireCommand('nbdkit', 'nbdkit');
  const dir = mkdtempSync(join(tmpdir(), 'bench-nbd-'));
  const pki = makePki(dir);
  const bmc = new FakeBmcweb(pki, dir, [{ id: 'Slot_0', endpoint: '/nbd/0' }], { user: 'root', password: 'bench' });
  await bmc.start();
  const image = join(dir, 'image.bin');
  writeFileSync(image, randomBytes(MIB * 1024 * 1024));
  const socket = bmc.socketPath('Slot_0');
  const nbdkitBehindRelay = join(dir, 'nbdkit.sock');
  try {
    const relay: number[] = [];
    const nbdkit: number[] = [];
    const bridged: number[] = [];
    const ratios: number[] = [];
    const sameTransport: number[] = [];
    // One warm-up of each (page cache, first spawn), not counted.
    await viaRelay(bmc, pki.caFile, image);
    await viaNbdkit(socket, image);
    await viaNbdkit(nbdkitBehindRelay, image, { bmc, caFile: pki.caFile });
    for (let i = 0; i < ROUNDS; i++) {
      const a = MIB / (await viaRelay(bmc, pki.caFile, image));
      const b = MIB / (await viaNbdkit(socket, image));
      const c = MIB / (await viaNbdkit(nbdkitBehindRelay, image, { bmc, caFile: pki.caFile }));
      relay.push(a);
      nbdkit.push(b);
      bridged.push(c);
      ratios.push(a / b);
      sameTransport.push(a / c);
      if (process.env.BENCH_VERBOSE) console.log(`  round ${i + 1}: relay ${a.toFixed(0)} MiB/s, nbdkit ${b.toFixed(0)} MiB/s, nbdkit through the relay ${c.toFixed(0)} MiB/s`);
    }
    const ratio = median(ratios);
    const same = median(sameTransport);
    return [
      {
        name: `nbd: proxy-mode read rate, CLI through the websocket relay (${MIB} MiB, 1 conn)`,
        value: median(relay),
        unit: 'MiB/s',
        baseline: median(nbdkit),
        ratio,
        target: '>= 0.9x',
        pass: ratio >= 0.9,
      },
      {
        name: `nbd: same websocket relay path, our NBD server vs nbdkit (bridged)`,
        value: median(relay),
        unit: 'MiB/s',
        baseline: median(bridged),
        ratio: same,
        target: '>= 0.9x',
        pass: same >= 0.9,
      },
    ];
  } finally {
    await bmc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
