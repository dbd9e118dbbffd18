// The patched usb_f_mass_storage.ko for Debian's stock 6.1 amd64 kernel:
// it must build, be loadable in place of the stock module (same vermagic,
// same name and dependencies) and carry the new stats attribute.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { buildPatchedMassStorageModule, modinfoField } from './build-module.js';
import { debianAmd64Kernel, KERNEL_CACHE_DIR } from './kernel-inputs.js';
import { runCommand } from './run-command.js';
import { requireCommand } from '../support/require-command.js';

async function definedSymbols(object: string): Promise<Map<string, string>> {
  requireCommand('nm', 'binutils');
  const symbols = new Map<string, string>();
  for (const line of (await runCommand('nm', [object])).stdout.split('\n')) {
    const match = /^[0-9a-f ]+ ([A-Za-z]) (\S+)$/.exec(line);
    if (match?.[1] && match[2]) symbols.set(match[2], match[1]);
  }
  return symbols;
}

describe('kernel: patched usb_f_mass_storage.ko for Debian 6.1 (x86_64)', function () {
  this.timeout(10 * 60 * 1000);

  it('is built for the Debian kernel that linux-image-amd64 installs, not the host kernel', async function () {
    const module = await buildPatchedMassStorageModule();
    const kernel = await debianAmd64Kernel();
    assert.equal(module.kernelVersion, kernel.release);
    assert.match(module.kernelVersion, /^6\.1\.\d+-\d+-amd64$/);
    assert.equal(module.modulesDir, join('/lib/modules', module.kernelVersion));
    assert.ok(isAbsolute(module.ko) && module.ko.startsWith(`${KERNEL_CACHE_DIR}/`), module.ko);
    assert.ok(existsSync(module.ko));
  });

  it("has the stock module's vermagic, name and dependencies", async function () {
    const module = await buildPatchedMassStorageModule();
    assert.equal(await modinfoField(module.ko, 'vermagic'), await modinfoField(module.stockKo, 'vermagic'));
    assert.equal(module.vermagic.split(' ')[0], module.kernelVersion);
    assert.equal(await modinfoField(module.ko, 'name'), 'usb_f_mass_storage');
    assert.equal(await modinfoField(module.ko, 'depends'), await modinfoField(module.stockKo, 'depends'));
  });

  it('contains the stats attribute for configfs and for the legacy sysfs LUN device', async function () {
    const module = await buildPatchedMassStorageModule();
    const symbols = await definedSymbols(module.ko);
    for (const name of ['fsg_show_stats', 'fsg_lun_opts_attr_stats', 'dev_attr_stats']) {
      assert.ok(symbols.has(name), `${name} missing from ${module.ko}`);
    }
    const stock = await definedSymbols(module.stockKo);
    assert.ok(!stock.has('fsg_show_stats'), 'the stock module already has fsg_show_stats?');
  });
});
