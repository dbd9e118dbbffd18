// The main job (npm run demo): boot a qemu VM with a real Linux kernel,
// serve a sample ISO over local HTTPS inside it, and let the virtual-media
// daemon turn it into a USB CD-ROM that the same VM sees as its "host" side
// (dummy_hcd loops the USB gadget back). The daemon is what the image ships:
// the release tarball installed by the recipe's own step, started by systemd
// from the layer's unit. Embedded defaults, no arguments.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleDaemon } from '../../daemon/build/bundle.js';
import { repoRoot } from '../../test/e2e/vm/initramfs.js';
import { installShippedDaemon } from '../../test/e2e/vm/shipped-daemon.js';
import { buildPatchedMassStorageModule } from '../../test/kernel/build-module.js';
import { runInVm } from '../../test/e2e/vm/run-in-vm.js';
import { requireCommand } from '../../test/support/require-command.js';

const tty = process.stdout.isTTY;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;

/** One line that rewrites itself on a terminal, or a line per change elsewhere. */
function progress(text: string): void {
  if (tty) process.stdout.write(`\r\x1b[K${text}`);
  else process.stdout.write(`${text}\n`);
}
function line(text: string): void {
  if (tty) process.stdout.write('\r\x1b[K');
  process.stdout.write(`${text}\n`);
}

/**
 * The guest side, bundled on the host (esbuild, as the daemon is): tsx
 * compiling the TypeScript in the guest costs tens of seconds under TCG. In
 * the repository's .cache, so the guest finds it on the repository share and
 * node_modules above it.
 */
const GUEST_BUNDLE = '.cache/e2e/demo-guest.mjs';

const GUEST_SCRIPT = `
. "$E2E_GUEST_DIR/lib.sh"
writable_daemon_config
cd "$E2E_REPO" || exit 100
echo "BOOTED"
exec node ${GUEST_BUNDLE}
`;

async function main(): Promise<void> {
  for (const [cmd, pkg] of [['qemu-system-x86_64', 'qemu-system-x86'], ['nbdkit', 'nbdkit'], ['nbd-client', 'nbd-client'], ['xorriso', 'xorriso'], ['openssl', 'openssl'], ['dbus-daemon', 'dbus']] as const) {
    requireCommand(cmd, pkg);
  }
  line('meta-virtual-media demo: an ISO on an HTTPS server becomes a USB CD-ROM, in a real kernel under qemu');
  progress('building the usb_f_mass_storage module with the LUN-stats patch…');
  const module = await buildPatchedMassStorageModule();
  line(`patched module for ${module.kernelVersion}${module.built ? ' built' : ' (cached)'}`);
  await bundleDaemon(join(repoRoot, GUEST_BUNDLE), false, 'scripts/demo/guest.ts');
  progress('building the release tarball and installing it with the recipe\'s do_install…');
  const installDir = mkdtempSync(join(tmpdir(), 'vm-demo-shipped-'));
  const shipped = await installShippedDaemon(installDir);
  line('release tarball built and installed with the recipe\'s own step (npm run release, virtual-media-build.sh)');

  let phase: 'boot' | 'run' = 'boot';
  // A live counter on a terminal; in a log, a line every 5 s is enough.
  const ticker = setInterval(() => {
    if (phase === 'boot') progress(`booting the VM (TCG, 1 vCPU, systemd)… ${elapsed()}`);
  }, tty ? 1000 : 5000);
  let failed = false;
  let lastQuarter = -1;
  try {
    const result = await runInVm({
      installRoot: shipped.root,
      script: GUEST_SCRIPT,
      timeoutMs: 600_000,
      memoryMiB: 1024,
      replaceModules: { usb_f_mass_storage: module.ko },
      ...(process.env.DEMO_VERBOSE ? { env: { DEMO_VERBOSE: '1' } } : {}),
      onLine: (l) => {
        if (process.env.DEMO_VERBOSE) line(`    | ${l}`);
        if (l.includes('BOOTED')) {
          phase = 'run';
          line(`VM up after ${elapsed()}; starting the HTTPS server, and the daemon through systemd, inside it`);
        }
        const demo = l.indexOf('DEMO ');
        if (demo >= 0) {
          const text = l.slice(demo + 5);
          if (text.startsWith('FAILED')) failed = true;
          line(`  ${text}`);
        }
        const p = l.match(/PROGRESS streaming (\d+) (\d+)/);
        if (p) {
          const [done, total] = [Number(p[1]), Number(p[2])];
          const percent = Math.round((100 * done) / total);
          // In a log, a quarter at a time is enough.
          if (!tty && percent < 100 && Math.floor(percent / 25) === lastQuarter) return;
          lastQuarter = Math.floor(percent / 25);
          progress(`  streaming the ISO through nbdkit → nbd → USB gadget → /dev/sr: ${(done / 2 ** 20).toFixed(1)} / ${(total / 2 ** 20).toFixed(1)} MiB (${Math.round((100 * done) / total)}%)`);
        }
      },
    });
    if (result.exitCode !== 0) failed = true;
    line(`VM finished after ${elapsed()} (guest exit code ${result.exitCode})`);
  } finally {
    clearInterval(ticker);
    rmSync(installDir, { recursive: true, force: true });
  }
  if (failed) throw new Error('see the lines above');
  line('demo: done');
}

main().catch((e) => {
  line(`demo failed: ${(e as Error).message}`);
  process.exitCode = 1;
});
