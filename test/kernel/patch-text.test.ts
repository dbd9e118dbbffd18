// Reads the patch as text: OpenEmbedded and kernel conventions for the
// header, and the promise the daemon relies on: the counter names printed by
// the code are exactly the ones the ABI documents describe.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PATCH_FILE } from './kernel-inputs.js';

const COUNTERS = ['read_commands', 'write_commands', 'bytes_read', 'bytes_written', 'io_errors'];
const SIGNER = 'meta-virtual-media developers <dev@meta-virtual-media.invalid>';

interface FileDiff {
  header: string;
  added: string[];
}

function splitPatch(text: string): { message: string; files: Map<string, FileDiff> } {
  const firstDiff = text.indexOf('\ndiff --git ');
  assert.ok(firstDiff > 0, 'no diff in the patch');
  const files = new Map<string, FileDiff>();
  for (const chunk of text.slice(firstDiff + 1).split(/^(?=diff --git )/m)) {
    const name = /^diff --git a\/(\S+)/.exec(chunk)?.[1];
    if (!name) continue;
    const added = chunk.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++')).map((l) => l.slice(1));
    files.set(name, { header: chunk, added });
  }
  return { message: text.slice(0, firstDiff), files };
}

describe('kernel: stats patch text', function () {
  const text = readFileSync(PATCH_FILE, 'utf8');
  const { message, files } = splitPatch(text);
  const added = (file: string): string[] => {
    const diff = files.get(file);
    assert.ok(diff, `the patch does not change ${file}`);
    return diff.added;
  };

  it('is in git format-patch form with subject, reason, sign-off and Upstream-Status', function () {
    assert.match(message, /^From [0-9a-f]{40} /);
    assert.match(message, new RegExp(`^From: ${SIGNER}$`, 'm'));
    assert.match(message, /^Subject: \[PATCH\] usb: gadget: f_mass_storage: add per-LUN I\/O statistics$/m);
    assert.match(message, /^Upstream-Status: Pending$/m);
    assert.match(message, new RegExp(`^Signed-off-by: ${SIGNER}$`, 'm'));
    // The body says why, and why atomic64_t rather than u64_stats_sync.
    assert.match(message, /atomic64_t/);
    assert.match(message, /u64_stats_sync/);
  });

  it('prints exactly the documented counters, one "name value" per line', function () {
    const printed = added('drivers/usb/gadget/function/storage_common.c')
      .map((line) => /sysfs_emit_at\(buf, len, "([a-z_]+) %lld\\n"/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    assert.deepEqual(printed, COUNTERS);
    const configfsDoc = added('Documentation/ABI/testing/configfs-usb-gadget-mass-storage').join('\n');
    assert.match(configfsDoc, /^What:\s+\/config\/usb-gadget\/gadget\/functions\/mass_storage\.name\/lun\.name\/stats$/m);
    assert.match(configfsDoc, /"name value"/);
    for (const name of COUNTERS) assert.match(configfsDoc, new RegExp(`^\\t\\t${name}\\t`, 'm'), `${name} undocumented`);
    const sysfsDoc = added('Documentation/ABI/testing/sysfs-devices-platform-_UDC_-gadget').join('\n');
    assert.match(sysfsDoc, /^What:\s+\/sys\/devices\/platform\/_UDC_\/gadget\/lunX\/stats$/m);
  });

  it('keeps 64-bit atomic counters, counted in do_read/do_write and reset in fsg_lun_open', function () {
    const header = added('drivers/usb/gadget/function/storage_common.h').join('\n');
    for (const name of COUNTERS) assert.match(header, new RegExp(`^\\tatomic64_t\\t${name};$`, 'm'));
    const fms = files.get('drivers/usb/gadget/function/f_mass_storage.c')?.header ?? '';
    const hunksIn = (fn: string): string[] => fms.split(/^(?=@@ )/m).filter((h) => h.includes(`@@ static int ${fn}(`));
    assert.match(hunksIn('do_read').join(''), /\+\s+atomic64_add\(nread, &curlun->stats\.bytes_read\);/);
    assert.match(hunksIn('do_write').join(''), /\+\s+atomic64_add\(nwritten, &curlun->stats\.bytes_written\);/);
    const sc = files.get('drivers/usb/gadget/function/storage_common.c')?.header ?? '';
    assert.match(sc, /@@ int fsg_lun_open\([^\n]*\n(?:[ +-][^\n]*\n)*?\+\tfsg_lun_reset_stats\(curlun\);/);
  });
});
