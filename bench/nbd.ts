// Proxy mode's data path, side by side in one run: nbdcopy reading a file
// (a) served by virtual-media-serve (the CLI as shipped, a child process)
// through the fake bmcweb's websocket relay; (b) served by nbdkit's file
// plugin listening on the same unix socket path (the comparison:
// everything the proxy path adds, TLS, websocket framing and masking, a
// relay hop, is charged to it); (c) served by nbdkit through the same
// websocket relay, bridged by a byte pipe (bench/nbd-bridge.ts): same
// transport, only the NBD server differs. One connection and the same
// request depth everywhere (the kernel's nbd-client behind bmcweb uses one
// connection); (d) served by our server on the same unix socket with no
// websocket (bench/nbd-unix-serve.ts): the NBD server alone against
// nbdkit's. (b) and (d) are long-lived servers, as the CLI is while it
// serves a medium: the first copy after start-up (our server's JIT warming
// up) is a row of its own, the rounds time warm servers, several (b)/(d)
// pairs per round. Interleaved rounds, medians of per-round ratios, and CPU
// seconds per GiB of each process (bench/nbd-cpu.ts): on a shared machine
// the steadier figure, and the one that shows which process is the
// bottleneck.
// Target: (a) >= 0.9x (c), the issue's >= 0.9x on the comparison where only
// the server differs. (a) vs (b) is bound by the stand-in relay and the
// websocket client's TLS whatever the server (row (c) gets no more), (d) vs
// (b) and the first copy are diagnostics of the server alone: information
// (nbd/README.md says why, with the figures).
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
import { processCpu, reapedChildrenCpu, selfCpu } from './nbd-cpu.js';
import { median, type Row } from './row.js';

const ROUNDS = Number(process.env.BENCH_NBD_ROUNDS ?? 5);
const MIB = Number(process.env.BENCH_NBD_MIB ?? 256);
/** How much each resident server serves before the timed rounds (the first copy included). */
const WARM_MIB = Number(process.env.BENCH_NBD_WARM_MIB ?? 1024);
const BRIDGE = join(dirname(fileURLToPath(import.meta.url)), 'nbd-bridge.ts');
const UNIX_SERVE = join(dirname(fileURLToPath(import.meta.url)), 'nbd-unix-serve.ts');
/**
 * (b) and (d) copies per round, in alternating order. A warm copy takes a fraction of a second, so
 * a hiccup of the shared machine swings one sample by half; more pairs cost little and steady the ratio.
 */
const RESIDENT_PAIRS = Number(process.env.BENCH_NBD_PAIRS ?? 3);
/**
 * A pause before each timed copy, so that it does not share the CPU with the previous sample's
 * tail: a bridge or CLI process exiting, the relay's garbage collection after 256 MiB of TLS.
 */
const SETTLE_MS = Number(process.env.BENCH_NBD_SETTLE_MS ?? 300);
const NBDCOPY_ARGS = ['--connections=1', '--requests=16', '--request-size=131072'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One copy: wall seconds and CPU seconds. Reaped children's CPU is only
 * known per window, and nbdcopy and a Node server (the CLI, the bridge) both
 * exit at the end of a copy, in either order: `window` holds both (the Node
 * process's start-up subtracted); nbdcopy alone is measured in (b), where
 * nbdkit outlives the window.
 */
interface Copy {
  seconds: number;
  /** The fake bmcweb relay (this process). */
  relayCpu: number;
  /** Children reaped from the copy's start until the Node server exited, minus that server's start-up. */
  window: number;
  /** nbdkit's own CPU, when it served. */
  nbdkitCpu: number;
}

async function timeCopy(socket: string): Promise<{ seconds: number; relayCpu: number }> {
  await sleep(SETTLE_MS);
  const self = selfCpu();
  const t0 = performance.now();
  await mustRun('nbdcopy', [...NBDCOPY_ARGS, `nbd+unix:///?socket=${socket}`, 'null:'], { timeoutMs: 300_000 });
  return { seconds: (performance.now() - t0) / 1000, relayCpu: selfCpu() - self };
}

async function viaRelay(bmc: FakeBmcweb, caFile: string, image: string): Promise<Copy> {
  const cli = new CliProcess(['--bmc', bmc.url, '--ca', caFile, '--quiet', image], { BMC_PASSWORD: 'bench' });
  const socket = await bmc.mounted('Slot_0');
  // The CLI's start-up (tsx compiling the sources) is not serving: counted from here.
  const startup = processCpu(cli.child.pid!);
  const before = reapedChildrenCpu();
  const copy = await timeCopy(socket);
  const code = await cli.exit(30_000);
  if (code !== 0) throw new Error(`virtual-media-serve exited ${code}: ${cli.stderr}`);
  return { ...copy, window: reapedChildrenCpu() - before - startup, nbdkitCpu: 0 };
}

/** A server process that outlives the copies: (b) nbdkit, (d) our server. */
interface Resident {
  child: ChildProcess;
  socket: string;
}

async function waitForSocket(socket: string, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 400 && !existsSync(socket); i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited ${child.exitCode} before listening`);
    await sleep(25);
  }
  if (!existsSync(socket)) throw new Error(`${what} did not listen on ${socket} within 10 s`);
}

async function startNbdkit(socket: string, image: string): Promise<Resident> {
  const child = spawn('nbdkit', ['--unix', socket, '--foreground', '--readonly', '--exit-with-parent', 'file', `file=${image}`], { stdio: 'ignore' });
  await waitForSocket(socket, child, 'nbdkit');
  return { child, socket };
}

/** (d) our server on a unix socket of its own, no websocket: what is ours, without the transport. */
async function startOurUnixServer(socket: string, image: string): Promise<Resident> {
  const child = spawn(process.execPath, ['--import', 'tsx', UNIX_SERVE, socket, image], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForSocket(socket, child, 'nbd-unix-serve.ts');
  return { child, socket };
}

async function stopResident(server: Resident): Promise<void> {
  if (server.child.exitCode === null) {
    const gone = new Promise((r) => server.child.once('exit', r));
    server.child.kill('SIGTERM');
    await gone;
  }
  rmSync(server.socket, { force: true });
}

/** One copy from a resident server: its CPU from /proc, nbdcopy's as the child reaped in the window. */
async function viaResident(server: Resident): Promise<Copy & { serverCpu: number }> {
  const serverBefore = processCpu(server.child.pid!);
  const before = reapedChildrenCpu();
  const copy = await timeCopy(server.socket);
  return { ...copy, window: reapedChildrenCpu() - before, nbdkitCpu: 0, serverCpu: processCpu(server.child.pid!) - serverBefore };
}

/** (c) nbdkit behind the same websocket relay, bridged by a Node byte pipe: a fresh nbdkit and bridge per copy. */
async function viaBridgedNbdkit(socket: string, image: string, bmc: FakeBmcweb, caFile: string): Promise<Copy> {
  const nbdkit = await startNbdkit(socket, image);
  try {
    const bridge = spawn(process.execPath, ['--import', 'tsx', BRIDGE, bmc.url, caFile, socket], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, BMC_PASSWORD: 'bench' } });
    const exited = new Promise((r) => bridge.once('exit', r));
    const mounted = await bmc.mounted('Slot_0');
    const startup = processCpu(bridge.pid!);
    const nbdkitBefore = processCpu(nbdkit.child.pid!);
    const before = reapedChildrenCpu();
    const result = await timeCopy(mounted);
    await exited;
    return { ...result, window: reapedChildrenCpu() - before - startup, nbdkitCpu: processCpu(nbdkit.child.pid!) - nbdkitBefore };
  } finally {
    await stopResident(nbdkit);
  }
}

/** CPU seconds per GiB read. */
const perGiB = (cpu: number) => (cpu * 1024) / MIB;

export async function run(): Promise<Row[]> {
  requireCommand('nbdcopy', 'libnbd-bin');
  requireCommand('nbdkit', 'nbdkit');
  const dir = mkdtempSync(join(tmpdir(), 'bench-nbd-'));
  const pki = makePki(dir);
  const bmc = new FakeBmcweb(pki, dir, [{ id: 'Slot_0', endpoint: '/nbd/0' }], { user: 'root', password: 'bench' });
  await bmc.start();
  const image = join(dir, 'image.bin');
  writeFileSync(image, randomBytes(MIB * 1024 * 1024));
  const residents: Resident[] = [];
  try {
    // (b) and (d) listen on sockets of their own for the whole run (the relay's socket is the
    // mount point's, which the fake bmcweb holds); the kind of socket is the same.
    const nbdkitDirect = await startNbdkit(join(dir, 'nbdkit-direct.sock'), image);
    residents.push(nbdkitDirect);
    const ourServer = await startOurUnixServer(join(dir, 'ours.sock'), image);
    residents.push(ourServer);
    const nbdkitBehindRelay = join(dir, 'nbdkit-bridged.sock');
    const relay: number[] = [];
    const nbdkit: number[] = [];
    /** (b)'s rate in every pair, beside (d)'s. */
    const nbdkitRates: number[] = [];
    const bridged: number[] = [];
    const ratios: number[] = [];
    const sameTransport: number[] = [];
    const ours: number[] = [];
    const oursVsNbdkit: number[] = [];
    const cpu = { relayOfA: [] as number[], cli: [] as number[], nbdkit: [] as number[], nbdcopy: [] as number[], relayOfC: [] as number[], bridgedServer: [] as number[], ours: [] as number[] };
    // The first copy of each resident server, as after start-up: ours still has to JIT its hot path.
    const firstOfNbdkit = await viaResident(nbdkitDirect);
    const firstOfOurs = await viaResident(ourServer);
    // Then it serves WARM_MIB more before it is timed: the CLI serves a medium for minutes (a
    // 4.7 GB DVD is 18 copies of 256 MiB), and V8 needs a few thousand requests to finish
    // optimising the hot path. nbdkit gets the same copies.
    for (let served = MIB; served < WARM_MIB; served += MIB) {
      await viaResident(ourServer);
      await viaResident(nbdkitDirect);
    }
    // One warm-up of the per-copy paths (page cache, first spawn), not counted.
    await viaRelay(bmc, pki.caFile, image);
    await viaBridgedNbdkit(nbdkitBehindRelay, image, bmc, pki.caFile);
    for (let i = 0; i < ROUNDS; i++) {
      const ca = await viaRelay(bmc, pki.caFile, image);
      const cc = await viaBridgedNbdkit(nbdkitBehindRelay, image, bmc, pki.caFile);
      const pairs: { b: Awaited<ReturnType<typeof viaResident>>; d: Awaited<ReturnType<typeof viaResident>> }[] = [];
      for (let p = 0; p < RESIDENT_PAIRS; p++) {
        if (p % 2 === 0) {
          const b = await viaResident(nbdkitDirect);
          pairs.push({ b, d: await viaResident(ourServer) });
        } else {
          const d = await viaResident(ourServer);
          pairs.push({ b: await viaResident(nbdkitDirect), d });
        }
      }
      for (const pair of pairs) {
        ours.push(MIB / pair.d.seconds);
        nbdkitRates.push(MIB / pair.b.seconds);
        oursVsNbdkit.push(pair.b.seconds / pair.d.seconds);
        cpu.ours.push(perGiB(pair.d.serverCpu));
        cpu.nbdkit.push(perGiB(pair.b.serverCpu));
      }
      // (a) vs (b) and nbdcopy's CPU take the round's first (b).
      const cb = pairs[0]!.b;
      const [a, b, c] = [MIB / ca.seconds, MIB / cb.seconds, MIB / cc.seconds];
      // nbdcopy does the same NBD work on every path: its CPU in (b) stands for it in (a) and (c).
      const nbdcopyCpu = cb.window;
      cpu.relayOfA.push(perGiB(ca.relayCpu));
      cpu.cli.push(perGiB(ca.window - nbdcopyCpu));
      cpu.nbdcopy.push(perGiB(nbdcopyCpu));
      cpu.relayOfC.push(perGiB(cc.relayCpu));
      cpu.bridgedServer.push(perGiB(cc.window - nbdcopyCpu + cc.nbdkitCpu));
      relay.push(a);
      nbdkit.push(b);
      bridged.push(c);
      ratios.push(a / b);
      sameTransport.push(a / c);
      if (process.env.BENCH_VERBOSE) {
        const pairRates = pairs.map((pair) => `${(MIB / pair.b.seconds).toFixed(0)}/${(MIB / pair.d.seconds).toFixed(0)}`).join(' ');
        console.log(`  round ${i + 1}: relay ${a.toFixed(0)} MiB/s, nbdkit through the relay ${c.toFixed(0)} MiB/s; nbdkit/ours on a unix socket ${pairRates} MiB/s`);
        const f = (xs: number[]) => xs.at(-1)!.toFixed(2);
        console.log(`    CPU s/GiB: (a) relay ${f(cpu.relayOfA)} CLI ${f(cpu.cli)}; (b) nbdkit ${f(cpu.nbdkit)} nbdcopy ${f(cpu.nbdcopy)}; (c) relay ${f(cpu.relayOfC)} nbdkit+bridge ${f(cpu.bridgedServer)}; (d) ours ${f(cpu.ours)}`);
      }
    }
    const ratio = median(ratios);
    const same = median(sameTransport);
    const relayCpu = median(cpu.relayOfA);
    const cliCpu = median(cpu.cli);
    const bridgedCpu = median(cpu.bridgedServer);
    const firstRate = { nbdkit: MIB / firstOfNbdkit.seconds, ours: MIB / firstOfOurs.seconds };
    return [
      {
        // Everything the websocket path adds is charged to us here, the fake's Node relay included
        // (bmcweb's is C++): the relay alone costs several times nbdkit's whole CPU per GiB (the CPU
        // rows), so no server behind it can reach 0.9x of nbdkit direct; nbdkit itself, in (c), does
        // not. Information only; the next row holds the target.
        name: `nbd: proxy-mode read rate, CLI through the websocket relay vs nbdkit direct (${MIB} MiB, 1 conn)`,
        value: median(relay),
        unit: 'MiB/s',
        baseline: median(nbdkit),
        ratio,
        target: 'info: relay-bound',
      },
      {
        // The comparison with the relay's cost on both sides: proxy mode through the relay,
        // ours against nbdkit serving the same file to the same socket.
        name: `nbd: same websocket relay path, our NBD server vs nbdkit (bridged)`,
        value: median(relay),
        unit: 'MiB/s',
        baseline: median(bridged),
        ratio: same,
        target: '>= 0.9x',
        pass: same >= 0.9,
      },
      {
        name: `nbd: our NBD server vs nbdkit, each warm on a unix socket, no websocket (d vs b, ${ROUNDS * RESIDENT_PAIRS} pairs)`,
        value: median(ours),
        unit: 'MiB/s',
        baseline: median(nbdkitRates),
        ratio: median(oursVsNbdkit),
        // The server alone: one event loop and libuv's thread pool against nbdkit's threads that each
        // read and send (nbd/README.md, "Bench"). A diagnostic, not the row.
        target: 'info: server alone',
      },
      {
        // One copy, so one sample: information. Ours runs its hot path unoptimised at first.
        name: `nbd: first ${MIB} MiB after start-up, our server vs nbdkit (d vs b, one copy)`,
        value: firstRate.ours,
        unit: 'MiB/s',
        baseline: firstRate.nbdkit,
        ratio: firstRate.ours / firstRate.nbdkit,
        target: 'info: JIT warm-up',
      },
      { name: 'nbd: CPU per GiB read, (a) the fake relay (Node, this process)', value: relayCpu, unit: 's/GiB' },
      { name: 'nbd: CPU per GiB read, (a) virtual-media-serve (after start-up)', value: cliCpu, unit: 's/GiB', baseline: bridgedCpu, ratio: cliCpu / bridgedCpu, target: 'vs (c) nbdkit + bridge' },
      { name: 'nbd: CPU per GiB read, nbdcopy (in (b))', value: median(cpu.nbdcopy), unit: 's/GiB' },
      { name: 'nbd: CPU per GiB read, (b) nbdkit direct', value: median(cpu.nbdkit), unit: 's/GiB' },
      { name: 'nbd: CPU per GiB read, (c) the fake relay', value: median(cpu.relayOfC), unit: 's/GiB' },
      { name: 'nbd: CPU per GiB read, (c) nbdkit + the bridge (Node)', value: bridgedCpu, unit: 's/GiB' },
      { name: 'nbd: CPU per GiB read, (d) our server, warm', value: median(cpu.ours), unit: 's/GiB' },
      { name: 'nbd: CPU per GiB read, (d) our server, first copy', value: perGiB(firstOfOurs.serverCpu), unit: 's/GiB' },
    ];
  } finally {
    for (const server of residents) await stopResident(server);
    await bmc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
