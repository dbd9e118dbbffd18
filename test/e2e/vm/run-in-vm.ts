// Boots the Debian stock kernel under qemu with the host root as the guest's
// root (read-only 9p) and runs a bash script in the guest as root.
// One boot can run several scenarios: the script decides what to run and
// writes JSON lines to $E2E_SHARE/results.jsonl.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireCommand } from '../../support/require-command.js';
import { buildInitramfs, repoRoot, type Initramfs } from './initramfs.js';
import { findDebianKernel, type DebianKernel } from './kernel.js';
import { chooseAccelerator } from './accel.js';
import { GUEST_ADDRESS_CIDR, nicArgs, resolveForwards, type ResolvedForward, type TcpForward } from './forward.js';

/** Where the share appears in the guest (a tmpfs /run on a read-only root, so always creatable). */
export const GUEST_SHARE = '/run/e2e-share';
/**
 * Where the repository appears in the guest: its own read-only 9p share at a
 * fixed path, so a clone anywhere on the host works (the guest's tmpfs /tmp,
 * /run and /var/tmp would hide a clone there).
 */
export const GUEST_REPO = '/run/e2e-repo';
const STAGE2 = `${GUEST_REPO}/test/e2e/guest/stage2.sh`;
const RESULTS_FILE = 'results.jsonl';
/** Where systemd finds its units in the guest: the share's .e2e/units. */
const GUEST_UNITS = `${GUEST_SHARE}/.e2e/units`;
const OUR_UNITS = join(dirname(fileURLToPath(import.meta.url)), 'units');
/** The host's units a systemd guest needs: the system bus and the journal, as on a BMC. */
const HOST_UNITS = [
  'dbus.socket',
  'dbus.service',
  'systemd-journald.socket',
  'systemd-journald-dev-log.socket',
  'systemd-journald-audit.socket',
  'systemd-journald.service',
  'shutdown.target',
];
const HOST_UNIT_DIR = '/lib/systemd/system';
/** Where an install root keeps its units (the recipe's ${systemd_system_unitdir}). */
const INSTALLED_UNIT_DIRS = ['usr/lib/systemd/system', 'lib/systemd/system'];
const CONSOLE_TAIL_LINES = 40;

export interface RunInVmOptions {
  /** bash script run in the guest as root, cwd /tmp; $E2E_SHARE, $E2E_GUEST_DIR are set. */
  script: string;
  /** Host directory shared read-write with the guest at $E2E_SHARE; a temp dir when omitted. */
  share?: string;
  /** Hard limit for the whole run; qemu is killed when it passes. */
  timeoutMs: number;
  /**
   * A shorter limit counted from the first console line starting with `line`
   * (e.g. a step that must not take long, whatever the boot took).
   */
  stepTimeout?: { line: string; ms: number };
  onLine?: (line: string) => void;
  /**
   * Kernel modules to insmod instead of the stock ones, e.g. { usb_f_mass_storage: '/path/to.ko' }
   * (host paths; copied into the share). Their stock dependencies are loaded first.
   */
  replaceModules?: Record<string, string>;
  /**
   * Boot the guest with systemd as PID 1 and this directory (a recipe's ${D},
   * see shipped-daemon.ts) laid over the host root (overlayfs, read-only), as
   * the image would have it installed. Units come from a runtime directory
   * only (SYSTEMD_UNIT_PATH): ours (vm/units), a few of the host's (D-Bus,
   * journald) and every unit the install root holds, unchanged. Without it,
   * the guest script runs under a bash PID 1.
   */
  installRoot?: string;
  /**
   * Guest TCP ports the host reaches at 127.0.0.1:hostPort (free ports are
   * chosen when hostPort is omitted; `result.forwarded` and `onForwarded` say
   * which). The guest then has a virtio NIC at 10.0.2.15/24 on a user-mode
   * network that reaches nothing outside (restrict=on). Without it the guest
   * has no NIC at all.
   */
  forwardTcp?: TcpForward[];
  /** Called with the forwarded ports before qemu starts, so the host knows them before the guest needs them. */
  onForwarded?: (forwarded: ResolvedForward[]) => void;
  /** Extra variables for the guest script (no secrets: they sit in a file on the share). */
  env?: Record<string, string>;
  memoryMiB?: number;
}

export interface GuestResult {
  scenario?: string;
  pass?: boolean;
  reason?: string;
  [key: string]: unknown;
}

export interface RunInVmResult {
  /** The guest script's exit code (0..127). */
  exitCode: number;
  console: string;
  results: GuestResult[];
  /** The host share directory (already deleted when runInVm made it itself). */
  share: string;
  accel: string;
  kernelVersion: string;
  /** The forwarded ports (forwardTcp), host side chosen; empty without. */
  forwarded: ResolvedForward[];
  timings: {
    /** qemu start to the first line of the guest script. */
    bootToScriptMs?: number;
    /** qemu start to qemu exit. */
    totalMs: number;
    initramfsFromCache: boolean;
  };
}

/** Fails the run with what it was doing and the console tail. */
export class VmError extends Error {
  constructor(message: string, readonly consoleTail: string, readonly lastStep?: string) {
    super(`${message}${lastStep ? `\nlast guest step: ${lastStep}` : ''}\n--- last console lines ---\n${consoleTail}`);
    this.name = 'VmError';
  }
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function writeGuestInputs(share: string, options: RunInVmOptions, kernel: DebianKernel, forwarded: ResolvedForward[]): void {
  const dir = join(share, '.e2e');
  mkdirSync(dir, { recursive: true });
  // Replacement modules travel through the share: the guest's tmpfs /tmp,
  // /run and /var/tmp hide the host's, so a host path may not be visible.
  mkdirSync(join(dir, 'modules'), { recursive: true });
  const replace = Object.entries(options.replaceModules ?? {}).map(([name, ko]) => {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`bad module name: ${name}`);
    if (!existsSync(ko)) throw new Error(`replacement module for ${name} does not exist: ${ko}`);
    copyFileSync(ko, join(dir, 'modules', `${name}.ko`));
    return `${name}=${GUEST_SHARE}/.e2e/modules/${name}.ko`;
  });
  const env: Record<string, string> = {
    E2E_MODULES_BASE: kernel.modulesBase,
    E2E_KERNEL_VERSION: kernel.version,
    E2E_REPO: GUEST_REPO,
    E2E_REPLACE_MODULES: replace.join(' '),
    E2E_WATCHDOG_S: String(Math.ceil(options.timeoutMs / 1000) + 15),
    // stage2.sh gives the NIC this address (no DHCP) when there is one.
    ...(forwarded.length ? { E2E_NET_ADDRESS: GUEST_ADDRESS_CIDR } : {}),
    ...options.env,
  };
  const lines = Object.entries(env).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`bad guest env name: ${k}`);
    return `export ${k}=${shellQuote(v)}`;
  });
  writeFileSync(join(dir, 'env'), `${lines.join('\n')}\n`);
  if (options.installRoot !== undefined) writeUnits(join(dir, 'units'), options.installRoot);
  writeFileSync(join(dir, 'script.sh'), options.script);
  rmSync(join(share, RESULTS_FILE), { force: true });
}

/** The systemd guest's whole unit search path: ours, the host's few, the install root's, copied verbatim. */
function writeUnits(units: string, installRoot: string): void {
  mkdirSync(units, { recursive: true });
  const copy = (from: string, name: string): void => copyFileSync(join(from, name), join(units, name));
  for (const name of readdirSync(OUR_UNITS)) copy(OUR_UNITS, name);
  for (const name of HOST_UNITS) {
    if (!existsSync(join(HOST_UNIT_DIR, name))) throw new Error(`${HOST_UNIT_DIR}/${name} is missing: install the Debian packages 'systemd' and 'dbus'`);
    copy(HOST_UNIT_DIR, name);
  }
  let installed = 0;
  for (const dir of INSTALLED_UNIT_DIRS.map((d) => join(installRoot, d)).filter((d) => existsSync(d))) {
    for (const name of readdirSync(dir)) {
      copy(dir, name);
      installed++;
    }
  }
  if (installed === 0) throw new Error(`no systemd units in the install root ${installRoot} (looked in ${INSTALLED_UNIT_DIRS.join(', ')})`);
}

function readResults(share: string): GuestResult[] {
  const file = join(share, RESULTS_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as GuestResult;
      } catch {
        return { scenario: 'unparsable-result-line', pass: false, reason: line };
      }
    });
}

export async function runInVm(options: RunInVmOptions): Promise<RunInVmResult> {
  const qemu = requireCommand('qemu-system-x86_64', 'qemu-system-x86');
  const kernel = findDebianKernel();
  const initramfs = buildInitramfs(kernel);
  if (options.share !== undefined) return boot(qemu, kernel, initramfs, options.share, options);
  const share = mkdtempSync(join(tmpdir(), 'e2e-share-'));
  try {
    return await boot(qemu, kernel, initramfs, share, options);
  } finally {
    rmSync(share, { recursive: true, force: true });
  }
}

async function boot(
  qemu: string,
  kernel: DebianKernel,
  initramfs: Initramfs,
  share: string,
  options: RunInVmOptions,
): Promise<RunInVmResult> {
  const forwarded = await resolveForwards(options.forwardTcp ?? []);
  writeGuestInputs(share, options, kernel, forwarded);
  const accel = chooseAccelerator();

  const cmdline = [
    'console=ttyS0',
    'panic=-1',
    'quiet',
    'loglevel=4',
    // Skip work a throwaway VM does not need; each second counts under TCG.
    'mitigations=off',
    'tsc=unstable',
    // Under TCG on a loaded host the IO-APIC timer check can miss its ticks
    // and panic the boot ("IO-APIC + timer doesn't work"); qemu's timer works.
    'no_timer_check',
    `e2e_stage2=${STAGE2}`,
    `e2e_share_dir=${GUEST_SHARE}`,
    `e2e_repo_dir=${GUEST_REPO}`,
    ...(options.installRoot !== undefined
      ? [
          'e2e_init=systemd',
          `e2e_units=${GUEST_UNITS}`,
          'systemd.unit=e2e.target',
          'systemd.show_status=0',
          'systemd.log_level=warning',
        ]
      : []),
  ].join(' ');
  const args = [
    ...accel.args,
    '-smp', '1',
    '-m', String(options.memoryMiB ?? 1024),
    '-nographic',
    '-no-reboot',
    ...nicArgs(forwarded),
    '-kernel', kernel.vmlinuz,
    '-initrd', initramfs.path,
    '-append', cmdline,
    '-virtfs', 'local,path=/,mount_tag=root,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${share},mount_tag=share,security_model=none,multidevs=remap`,
    '-virtfs', `local,path=${repoRoot},mount_tag=repo,security_model=none,readonly=on,multidevs=remap`,
    ...(options.installRoot !== undefined
      ? ['-virtfs', `local,path=${options.installRoot},mount_tag=install,security_model=none,readonly=on,multidevs=remap`]
      : []),
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
  ];

  if (forwarded.length) options.onForwarded?.(forwarded);
  const started = Date.now();
  // qemu stays in our process group so a ^C reaches it too; the guest's own
  // watchdog (E2E_WATCHDOG_S) bounds it should this process die without killing it.
  const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const killQemu = (): void => {
    child.kill('SIGKILL');
  };
  const killOnExit = killQemu;
  process.once('exit', killOnExit);

  const consoleLines: string[] = [];
  let consoleText = '';
  let lastStep: string | undefined;
  let bootToScriptMs: number | undefined;
  let partial = '';
  let stepTimer: NodeJS.Timeout | undefined;
  let timedOutWhy: string | undefined;
  const onLine = (raw: string): void => {
    // SeaBIOS and the kernel sprinkle terminal escapes; keep the lines plain.
    const line = raw.replace(/\x1b(\[[0-9;?]*[A-Za-z]|c)/g, '').replace(/\r/g, '');
    consoleLines.push(line);
    consoleText += `${line}\n`;
    if (line.startsWith('E2E-STEP ')) lastStep = line.slice('E2E-STEP '.length);
    if (bootToScriptMs === undefined && line.startsWith('E2E-SCRIPT-START')) bootToScriptMs = Date.now() - started;
    if (options.stepTimeout && !stepTimer && line.startsWith(options.stepTimeout.line)) {
      stepTimer = setTimeout(() => {
        timedOutWhy = `timed out ${options.stepTimeout!.ms} ms after ${options.stepTimeout!.line}`;
        killQemu();
      }, options.stepTimeout.ms);
    }
    options.onLine?.(line);
  };
  const feed = (chunk: Buffer): void => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) onLine(p);
  };
  child.stdout.on('data', feed);
  child.stderr.on('data', (chunk: Buffer) => {
    for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) onLine(`[qemu stderr] ${l}`);
  });
  const tail = (): string => consoleLines.slice(-CONSOLE_TAIL_LINES).join('\n');

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }>((resolve, reject) => {
    const timer = setTimeout(() => {
      timedOutWhy = `timed out after ${options.timeoutMs} ms`;
      killQemu();
      resolve({ code: null, signal: 'SIGKILL', timedOut: true });
    }, options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut: timedOutWhy !== undefined });
    });
  }).finally(() => {
    clearTimeout(stepTimer);
    process.removeListener('exit', killOnExit);
  });
  if (partial) onLine(partial);
  const totalMs = Date.now() - started;

  if (exit.timedOut) {
    throw new VmError(`VM ${timedOutWhy ?? 'timed out'} (qemu killed)`, tail(), lastStep);
  }
  if (exit.code === null) throw new VmError(`qemu ended by signal ${exit.signal}`, tail(), lastStep);
  if (exit.code % 2 === 0) {
    // 0: the guest rebooted/panicked without writing the exit port; others: qemu's own error.
    throw new VmError(
      exit.code === 0 ? 'guest stopped without reporting an exit code (panic or init died)' : `qemu failed with exit code ${exit.code}`,
      tail(),
      lastStep,
    );
  }
  const exitCode = (exit.code - 1) / 2;
  if (exitCode === 126) throw new VmError('the initramfs failed (see E2E-INITRAMFS-FAIL)', tail(), lastStep);
  if (exitCode === 125) throw new VmError('guest stage 2 failed (see E2E-STEP-FAIL)', tail(), lastStep);

  const result: RunInVmResult = {
    exitCode,
    console: consoleText,
    results: readResults(share),
    share,
    accel: accel.name,
    kernelVersion: kernel.version,
    forwarded,
    timings: { totalMs, initramfsFromCache: initramfs.fromCache },
  };
  if (bootToScriptMs !== undefined) result.timings.bootToScriptMs = bootToScriptMs;
  return result;
}
