// The patch must compile for a 32-bit ASPEED BMC (arm, aspeed_g5_defconfig +
// virtual-media.cfg, Linux 6.12), where 64-bit counters are the tricky part.
import assert from 'node:assert/strict';
import { openSync, readSync, closeSync } from 'node:fs';
import { buildArmMassStorageObjects } from './arm-build.js';
import { configValue } from './kconfig-fragment.js';
import { runCommand } from './run-command.js';
import { requireCommand } from '../support/require-command.js';

const EM_ARM = 40;

/** ELF class (1 = 32-bit) and machine of an object file. */
function elfHeader(path: string): { elfClass: number; machine: number } {
  const header = Buffer.alloc(20);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  assert.equal(header.subarray(0, 4).toString('latin1'), '\x7fELF', `${path} is not an ELF file`);
  return { elfClass: header[4] as number, machine: header.readUInt16LE(18) };
}

async function armSymbols(object: string): Promise<Map<string, string>> {
  const nm = requireCommand('arm-linux-gnueabi-nm', 'binutils-arm-linux-gnueabi');
  const symbols = new Map<string, string>();
  for (const line of (await runCommand(nm, [object])).stdout.split('\n')) {
    const match = /^[0-9a-f ]+ ([A-Za-z]) (\S+)$/.exec(line);
    if (match?.[1] && match[2]) symbols.set(match[2], match[1]);
  }
  return symbols;
}

describe('kernel: stats patch on 32-bit ARM (linux-source-6.12, aspeed_g5_defconfig)', function () {
  this.timeout(15 * 60 * 1000);

  it('the patched 6.12 tree was patched without fuzz or offset', async function () {
    const build = await buildArmMassStorageObjects();
    assert.deepEqual(build.patchReport.fuzz, [], build.patchReport.output);
    assert.deepEqual(build.patchReport.offsets, [], build.patchReport.output);
  });

  it('builds f_mass_storage.o and storage_common.o as 32-bit ARM objects, configured in', async function () {
    const build = await buildArmMassStorageObjects();
    for (const object of [build.fMassStorageObject, build.storageCommonObject]) {
      assert.deepEqual(elfHeader(object), { elfClass: 1, machine: EM_ARM }, object);
    }
    assert.equal(configValue(build.config, 'USB_CONFIGFS_MASS_STORAGE'), 'y');
    assert.equal(configValue(build.config, 'USB_F_MASS_STORAGE'), 'y');
  });

  it('the objects carry the stats attribute and its printer', async function () {
    const build = await buildArmMassStorageObjects();
    const fms = await armSymbols(build.fMassStorageObject);
    assert.ok(fms.has('fsg_lun_opts_attr_stats'), 'configfs lun.N/stats attribute missing');
    assert.ok(fms.has('dev_attr_stats'), 'legacy sysfs stats attribute missing');
    assert.equal(fms.get('fsg_show_stats'), 'U', 'f_mass_storage.o should call fsg_show_stats from storage_common.o');
    const common = await armSymbols(build.storageCommonObject);
    assert.equal(common.get('fsg_show_stats'), 'T', 'storage_common.o should define fsg_show_stats');
    const strings = (await runCommand(requireCommand('strings', 'binutils'), ['-a', build.storageCommonObject])).stdout;
    for (const name of ['read_commands', 'write_commands', 'bytes_read', 'bytes_written', 'io_errors']) {
      assert.match(strings, new RegExp(`^${name} %lld$`, 'm'), `format for ${name} missing`);
    }
  });
});
