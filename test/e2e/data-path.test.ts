// The real virtual-media data path in a qemu VM running Debian's kernel:
// image -> nbdkit -> nbd-client -> /dev/nbdN -> configfs mass-storage gadget
// -> dummy_hcd -> USB disk / CD-ROM in the same VM. One boot, all scenarios.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPatchedMassStorageModule } from '../kernel/build-module.js';
import { requireCommand } from '../support/require-command.js';
import { scenariosScript, verboseConsole } from './vm/guest-scripts.js';
import { runInVm, type GuestResult, type RunInVmResult } from './vm/run-in-vm.js';

async function patchedModule(): Promise<string> {
  try {
    return (await buildPatchedMassStorageModule()).ko;
  } catch (err) {
    throw new Error(
      'cannot build the patched usb_f_mass_storage.ko for the VM kernel (see test/kernel/README.md; ' +
        `packages linux-headers-amd64, linux-source-6.1, gcc, make): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

describe('e2e: data path in a qemu VM (Debian kernel, dummy_hcd)', function () {
  this.timeout(1_800_000);
  let run: RunInVmResult;
  let moduleDir: string;

  before(async function () {
    this.timeout(1_800_000);
    requireCommand('qemu-system-x86_64', 'qemu-system-x86');
    requireCommand('nbdkit', 'nbdkit');
    requireCommand('nbd-client', 'nbd-client');
    requireCommand('xorriso', 'xorriso');
    requireCommand('modprobe', 'kmod');
    // The project's kernel patch (lun.N/stats) built for the VM's kernel, unless
    // E2E_MASS_STORAGE_KO names another build. No fallback to the stock module:
    // the lun-stats scenario is what proves the patch counts.
    moduleDir = mkdtempSync(join(tmpdir(), 'e2e-ko-'));
    const ko = join(moduleDir, 'usb_f_mass_storage.ko');
    copyFileSync(process.env.E2E_MASS_STORAGE_KO ?? (await patchedModule()), ko);
    run = await runInVm({
      script: scenariosScript(['modules', 'usb-disk', 'cdrom', 'lun-stats', 'node-startup']),
      // Only a guard against a hung guest: five scenarios take 2–3 min alone,
      // and over 10 min with several TCG guests and busy loops beside them.
      timeoutMs: 1_500_000,
      replaceModules: { usb_f_mass_storage: ko },
      onLine: verboseConsole(),
    });
  });

  after(function () {
    if (moduleDir) rmSync(moduleDir, { recursive: true, force: true });
  });

  const scenario = (name: string): GuestResult => {
    const found = run.results.find((r) => r.scenario === name);
    assert.ok(found, `no result for scenario ${name}; console tail:\n${run.console.split('\n').slice(-30).join('\n')}`);
    return found;
  };
  const assertPassed = (name: string): GuestResult => {
    const r = scenario(name);
    assert.equal(r.pass, true, `scenario ${name} failed: ${r.reason}\nconsole tail:\n${run.console.split('\n').slice(-30).join('\n')}`);
    return r;
  };

  it('boots, runs the guest script and reports exit code 0 through port 0xf4', function () {
    assert.equal(run.exitCode, 0, `guest exit code ${run.exitCode}; results: ${JSON.stringify(run.results)}`);
    assert.ok(run.timings.bootToScriptMs !== undefined, 'never saw E2E-SCRIPT-START');
    assert.equal(run.results.length, 5);
  });

  it('loads the data-path modules and the replacement usb_f_mass_storage.ko', function () {
    const r = assertPassed('modules');
    assert.equal(r.replacedModules, 1);
    assert.match(String(r.udc), /^dummy_udc\.\d+$/);
  });

  it('serves a 16 MiB nbdkit image as a USB disk with identical size and sha256, then tears down', function () {
    const r = assertPassed('usb-disk');
    assert.match(String(r.usbDisk), /^sd[a-z]+$/);
    assert.ok(Number(r.usbReadMiBps) > 0 && Number(r.nbdReadMiBps) > 0);
  });

  it('serves an ISO 9660 image as a USB CD-ROM that mounts and shows the known file', function () {
    const r = assertPassed('cdrom');
    assert.match(String(r.cdrom), /^sr\d+$/);
  });

  it('counts reads, writes and bytes in lun.0/stats (patched module) and resets them on re-open', function () {
    const r = assertPassed('lun-stats');
    const counters = (key: string): Record<string, number> => {
      // "read_commands 12 write_commands 0 ..." (the file's lines joined by spaces)
      const words = String(r[key]).trim().split(/\s+/);
      const pairs: [string, number][] = [];
      for (let i = 0; i + 1 < words.length; i += 2) pairs.push([words[i], Number(words[i + 1])]);
      return Object.fromEntries(pairs);
    };
    const afterRead = counters('statsAfterRead');
    assert.ok(afterRead.read_commands > 0 && afterRead.bytes_read >= 8 * 1024 * 1024, JSON.stringify(afterRead));
    const afterWrite = counters('statsAfterWrite');
    assert.ok(afterWrite.write_commands > 0 && afterWrite.bytes_written >= 1024 * 1024, JSON.stringify(afterWrite));
    assert.deepEqual(counters('statsAfterReopen'), {
      read_commands: 0, write_commands: 0, bytes_read: 0, bytes_written: 0, io_errors: 0,
    });
  });

  it('measures node start-up in the VM', function () {
    const r = assertPassed('node-startup');
    assert.ok(Number(r.nodeStartMs) > 0);
  });

  // The figures themselves are bench rows (bench/vm.ts); here only that the
  // harness and the guest still measure them. No duration is asserted.
  it('records the timings the benchmark reads', function () {
    const disk = scenario('usb-disk');
    const node = scenario('node-startup');
    const line = {
      accel: run.accel,
      kernel: run.kernelVersion,
      bootToScriptMs: run.timings.bootToScriptMs,
      totalMs: run.timings.totalMs,
      usbReadMiBps: disk.usbReadMiBps,
      nbdReadMiBps: disk.nbdReadMiBps,
      usbDiskAppearMs: disk.usbDiskAppearMs,
      cdromAppearMs: scenario('cdrom').cdromAppearMs,
      nodeStartMs: node.nodeStartMs,
      nodeTsxStartMs: node.nodeTsxStartMs,
    };
    process.stdout.write(`      e2e timings: ${JSON.stringify(line)}\n`);
    for (const [name, value] of Object.entries(line)) {
      if (name === 'accel' || name === 'kernel') assert.ok(typeof value === 'string' && value.length > 0, `${name} not recorded`);
      else assert.ok(typeof value === 'number' && Number.isFinite(value) && value > 0, `${name} not recorded: ${String(value)}`);
    }
  });
});
