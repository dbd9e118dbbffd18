// virtual-media.cfg: strict syntax, symbols that exist in Linux 6.12, and
// values that survive aspeed_g5_defconfig + merge_config.sh + olddefconfig
// (a value whose dependencies are off is dropped silently by Kconfig).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildArmMassStorageObjects, preparePatchedArmTree } from './arm-build.js';
import { CONFIG_FRAGMENT } from './kernel-inputs.js';
import { configValue, kconfigSymbols, parseFragment } from './kconfig-fragment.js';

const fragment = (): ReturnType<typeof parseFragment> => parseFragment(readFileSync(CONFIG_FRAGMENT, 'utf8'));

describe('kernel: virtual-media.cfg', function () {
  this.timeout(10 * 60 * 1000);

  it('parser accepts only option lines, comments and blank lines', function () {
    const parsed = parseFragment(
      ['# a comment', '', 'CONFIG_A=y', 'CONFIG_B=m', '# CONFIG_C is not set', 'CONFIG_D=n', 'CONFIG_E="x"',
        '#CONFIG_F is not set', '# CONFIG_G=y', 'CONFIG_A=m', ' CONFIG_H=y', ''].join('\n'),
    );
    assert.deepEqual(
      parsed.entries.map((e) => `${e.symbol}=${e.value}`),
      ['A=y', 'B=m', 'C=n', 'A=m'],
    );
    assert.equal(parsed.errors.length, 6, parsed.errors.join('\n'));
  });

  it('every line is a valid config line, and no symbol is set twice', function () {
    const parsed = fragment();
    assert.deepEqual(parsed.errors, []);
    assert.ok(parsed.entries.length > 0, 'the fragment sets nothing');
  });

  it('sets what virtual media needs', function () {
    const values = new Map(fragment().entries.map((e) => [e.symbol, e.value]));
    for (const symbol of ['BLK_DEV_NBD', 'CONFIGFS_FS', 'USB_GADGET', 'USB_CONFIGFS', 'USB_CONFIGFS_MASS_STORAGE', 'CIFS']) {
      assert.ok(values.get(symbol) === 'y' || values.get(symbol) === 'm', `CONFIG_${symbol} must be y or m`);
    }
  });

  it('every symbol exists in the Linux 6.12 Kconfig tree', async function () {
    const tree = await preparePatchedArmTree();
    const known = kconfigSymbols(tree.sourceDir);
    assert.ok(known.has('USB_F_MASS_STORAGE') && known.size > 10000, `Kconfig scan found only ${known.size} symbols`);
    const unknown = fragment().entries.filter((e) => !known.has(e.symbol)).map((e) => `CONFIG_${e.symbol} (line ${e.line})`);
    assert.deepEqual(unknown, [], 'symbols not declared in any Kconfig file');
  });

  it('every value survives aspeed_g5_defconfig + fragment + olddefconfig', async function () {
    const build = await buildArmMassStorageObjects();
    const lost = fragment()
      .entries.filter((e) => configValue(build.config, e.symbol) !== e.value)
      .map((e) => `CONFIG_${e.symbol}: wanted ${e.value}, got ${configValue(build.config, e.symbol)}`);
    assert.deepEqual(lost, [], `values Kconfig did not keep (merge_config said:\n${build.mergeOutput})`);
    // Not selectable itself: it must come in through USB_CONFIGFS_MASS_STORAGE.
    assert.equal(configValue(build.config, 'USB_F_MASS_STORAGE'), 'y');
  });
});
