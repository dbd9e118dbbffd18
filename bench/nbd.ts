// Proxy mode's data path, side by side in one run: nbdcopy reading a file
// (a) served by virtual-media-serve (the CLI as shipped, a child process)
// through the fake bmcweb's websocket relay, and (b) served by nbdkit's file
// plugin listening on the same unix socket path. Both with one connection
// and the same request depth (the kernel's nbd-client behind bmcweb uses one
// connection). Interleaved rounds, median of per-round ratios.
// Target: relay read rate >= 0.9x nbdkit's.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePki } from '../test/daemon/support/tls-server.js';
import { CliProcess } from '../test/nbd/support/cli-process.js';
import { FakeBmcweb } from '../test/nbd/support/fake-bmcweb.js';
import { mustRun } from '../test/nbd/support/run.js';
import { requireCommand } from '../test/support/require-command.js';
import { median, type Row } from './row.js';

const ROUNDS = Number(process.env.BENCH_NBD_ROUNDS ?? 5);
const MIB = Number(process.env.BENCH_NBD_MIB ?? 256);
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

async function viaNbdkit(socket: string, image: string): Promise<number> {
  const child: ChildProcess = spawn('nbdkit', ['--unix', socket, '--foreground', '--readonly', '--exit-with-parent', 'file', `file=${image}`], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 200 && !existsSync(socket); i++) await sleep(25);
    return await timeCopy(socket);
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
  try {
    const relay: number[] = [];
    const nbdkit: number[] = [];
    const ratios: number[] = [];
    // One warm-up of each (page cache, first spawn), not counted.
    await viaRelay(bmc, pki.caFile, image);
    await viaNbdkit(socket, image);
    for (let i = 0; i < ROUNDS; i++) {
      const a = MIB / (await viaRelay(bmc, pki.caFile, image));
      const b = MIB / (await viaNbdkit(socket, image));
      relay.push(a);
      nbdkit.push(b);
      ratios.push(a / b);
      if (process.env.BENCH_VERBOSE) console.log(`  round ${i + 1}: relay ${a.toFixed(0)} MiB/s, nbdkit ${b.toFixed(0)} MiB/s`);
    }
    const ratio = median(ratios);
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
    ];
  } finally {
    await bmc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
