// The stats patch must apply without fuzz to the Debian 6.1 and 6.12 sources,
// with GNU patch (what OpenEmbedded uses) and with git apply, and both must
// give the same result.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyWithGit, applyWithPatch } from './apply-patch.js';
import { PATCH_FILE, type SourceSeries } from './kernel-inputs.js';
import { copySubset, filesTouchedBy, sourceSubset } from './source-files.js';

const EXPECTED_FILES = [
  'Documentation/ABI/testing/configfs-usb-gadget-mass-storage',
  'Documentation/ABI/testing/sysfs-devices-platform-_UDC_-gadget',
  'drivers/usb/gadget/function/f_mass_storage.c',
  'drivers/usb/gadget/function/storage_common.c',
  'drivers/usb/gadget/function/storage_common.h',
];

/*
 * The patch is made against 6.12, the newer base and the closer one to
 * OpenBMC's 6.18, so on 6.12 every hunk must land exactly where it says.
 * On 6.1 some hunks land a few lines away: 6.12 added
 * `#include <linux/kstrtox.h>` to both .c files and shortened
 * fsg_common_create_lun() by three lines. No single patch can have the line
 * numbers of both trees; an offset (unlike fuzz) still needs every context
 * line to match exactly, so it is allowed for 6.1, in those two files, up to
 * the size of those shifts.
 */
const ALLOWED_6_1_OFFSETS: Record<string, number> = {
  'drivers/usb/gadget/function/f_mass_storage.c': 4,
  'drivers/usb/gadget/function/storage_common.c': 1,
};

const scratchDirs: string[] = [];

async function pristineCopy(series: SourceSeries): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `mvm-kernel-${series}-`));
  scratchDirs.push(dir);
  copySubset(await sourceSubset(series), dir);
  return dir;
}

describe('kernel: stats patch applies to Debian linux-source', function () {
  this.timeout(5 * 60 * 1000);

  after(function () {
    for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('touches only the mass-storage sources and their ABI documents', function () {
    assert.deepEqual(filesTouchedBy(readFileSync(PATCH_FILE, 'utf8')).sort(), EXPECTED_FILES);
  });

  it('applies to 6.12 with no fuzz and no offset', async function () {
    const report = await applyWithPatch(await pristineCopy('6.12'), PATCH_FILE);
    assert.deepEqual(report.fuzz, [], report.output);
    assert.deepEqual(report.offsets, [], report.output);
  });

  it('applies to 6.1 with no fuzz, and offsets only where 6.12 moved lines', async function () {
    const report = await applyWithPatch(await pristineCopy('6.1'), PATCH_FILE);
    assert.deepEqual(report.fuzz, [], report.output);
    const unexpected = report.offsets.filter((o) => Math.abs(o.offset) > (ALLOWED_6_1_OFFSETS[o.file] ?? 0));
    assert.deepEqual(unexpected, [], report.output);
  });

  for (const series of ['6.1', '6.12'] as const) {
    it(`git apply gives the same files as patch on ${series}`, async function () {
      const byPatch = await pristineCopy(series);
      const byGit = await pristineCopy(series);
      await applyWithPatch(byPatch, PATCH_FILE);
      await applyWithGit(byGit, PATCH_FILE);
      for (const file of EXPECTED_FILES) {
        const patched = readFileSync(join(byPatch, file), 'utf8');
        assert.equal(readFileSync(join(byGit, file), 'utf8'), patched, `${file} differs between patch and git apply`);
        assert.match(patched, /stats/, `${file} was not changed`);
      }
    });
  }
});
