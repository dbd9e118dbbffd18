// The bmcweb patch the layer ships: its header (what OE and reviewers need),
// the three build files it touches and nothing else, hunks that add or
// remove only what the layer README says, and a diff git itself accepts.
// (That it applies to bmcweb at the revision OpenBMC pins is checked by hand
// with `git apply --check`; the README names the revisions.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { patchProblems } from './support/layer-rules.js';
import { layerDir, read } from './support/layer-files.js';
import { bmcwebPatch } from './support/openbmc-recipes.js';

interface Hunk {
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  lines: string[];
}

interface FileDiff {
  path: string;
  hunks: Hunk[];
}

/** The file diffs of a unified diff; throws on a hunk whose line counts do not match its header. */
function parseDiff(text: string): FileDiff[] {
  const files: FileDiff[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const git = /^diff --git a\/(\S+) b\/(\S+)$/.exec(lines[i]!);
    if (git) {
      if (git[1] !== git[2]) throw new Error(`renames are not expected: ${lines[i]}`);
      files.push({ path: git[1]!, hunks: [] });
      continue;
    }
    const h = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(lines[i]!);
    if (!h) continue;
    const hunk: Hunk = { oldStart: +h[1]!, oldCount: h[2] === undefined ? 1 : +h[2], newStart: +h[3]!, newCount: h[4] === undefined ? 1 : +h[4], lines: [] };
    let old = 0;
    let neu = 0;
    while (old < hunk.oldCount || neu < hunk.newCount) {
      const l = lines[++i];
      if (l === undefined || !/^[ +-]/.test(l)) throw new Error(`${files.at(-1)?.path}: hunk at -${hunk.oldStart} ends early: ${JSON.stringify(l)}`);
      if (l[0] !== '+') old++;
      if (l[0] !== '-') neu++;
      hunk.lines.push(l);
    }
    const next = lines[i + 1];
    if (next !== undefined && /^[ +-]/.test(next) && next !== '-- ' && !next.startsWith('--- ')) {
      throw new Error(`${files.at(-1)?.path}: hunk at -${hunk.oldStart} has more lines than its header says (${hunk.oldCount}/${hunk.newCount})`);
    }
    files.at(-1)!.hunks.push(hunk);
  }
  return files;
}

const side = (h: Hunk, keep: '-' | '+'): string[] => h.lines.filter((l) => l[0] === ' ' || l[0] === keep).map((l) => l.slice(1));
const changed = (f: FileDiff, sign: '-' | '+'): string[] => f.hunks.flatMap((h) => h.lines.filter((l) => l[0] === sign).map((l) => l.slice(1)));

describe('layer: the bmcweb patch (vm-nbdproxy)', () => {
  const text = read(bmcwebPatch);
  const [header, diff] = [text.slice(0, text.indexOf('\ndiff --git ')), text.slice(text.indexOf('\ndiff --git ') + 1)];
  const files = parseDiff(diff);
  const file = (path: string): FileDiff => files.find((f) => f.path === path) ?? assert.fail(`the patch does not touch ${path}`);

  it('has a mail header with a subject, a body saying why, and Upstream-Status: Pending with the reason', () => {
    assert.match(header, /^From [0-9a-f]{40} /);
    assert.match(header, /^From: .+ <[^>]+@[^>]+>$/m);
    assert.match(header, /^Subject: \[PATCH\] Restore the vm-nbdproxy build option$/m);
    assert.deepEqual(patchProblems('bmcweb patch', text), []);
    assert.match(header, /^Upstream-Status: Pending \[[^\]]*bmcweb issue\s+188[^\]]*\]$/m, 'the reason it is not upstream');
    assert.match(header, /No C\+\+ changes/);
  });

  it('touches exactly meson.options, config/meson.build and the OEM schema list', () => {
    assert.deepEqual(files.map((f) => f.path).sort(), ['config/meson.build', 'meson.options', 'redfish-core/schema/oem/openbmc/meson.build']);
  });

  it('meson.options: replaces the commented-out option by a real one, off by default', () => {
    const f = file('meson.options');
    const removed = changed(f, '-');
    assert.ok(removed.length > 0 && removed.every((l) => l.startsWith('#')), `only comment lines go: ${removed.join(' | ')}`);
    const added = changed(f, '+').join('\n');
    assert.match(added, /^option\(\n {4}'vm-nbdproxy',\n {4}type: 'feature',\n {4}value: 'disabled',\n {4}description: '''[^]*''',\n\)$/);
  });

  it('config/meson.build: lists the option with the other features and drops only the hard-coded false (and its comment)', () => {
    const f = file('config/meson.build');
    assert.deepEqual(changed(f, '+'), ["    'vm-nbdproxy',"]);
    const removed = changed(f, '-').filter((l) => l.trim() !== '');
    assert.deepEqual(removed.filter((l) => !l.startsWith('#')), ["feature_options_string += 'constexpr const bool BMCWEB_VM_NBDPROXY = false;\\n'"]);
    const list = f.hunks.find((h) => h.lines.includes("+    'vm-nbdproxy',"))!;
    const at = list.lines.indexOf("+    'vm-nbdproxy',");
    assert.equal(list.lines[at + 1], "     'vm-websocket',", 'kept in alphabetical order, before vm-websocket');
  });

  it('the OEM schema list: installs OpenBMCVirtualMedia for vm-nbdproxy (the line un-commented)', () => {
    const f = file('redfish-core/schema/oem/openbmc/meson.build');
    assert.deepEqual(changed(f, '-'), ["    #'vm-nbdproxy': 'OpenBMCVirtualMedia',"]);
    assert.deepEqual(changed(f, '+'), ["    'vm-nbdproxy': 'OpenBMCVirtualMedia',"]);
  });

  it('is a diff git applies: on files made of its own pre-images it gives exactly its post-images', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vm-bmcweb-patch-'));
    try {
      for (const f of files) {
        mkdirSync(join(dir, dirname(f.path)), { recursive: true });
        writeFileSync(join(dir, f.path), f.hunks.flatMap((h) => side(h, '-')).join('\n') + '\n');
      }
      execFileSync('git', ['init', '-q'], { cwd: dir });
      execFileSync('git', ['apply', '--check', bmcwebPatch], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      execFileSync('git', ['apply', bmcwebPatch], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      for (const f of files) assert.equal(readFileSync(join(dir, f.path), 'utf8'), f.hunks.flatMap((h) => side(h, '+')).join('\n') + '\n', f.path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the hunk reader rejects a hunk whose header does not match its lines', () => {
    assert.throws(() => parseDiff('diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n+d\n'), /more lines than its header says/);
    assert.throws(() => parseDiff('diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n'), /ends early/);
    assert.equal(parseDiff('diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n-- \n2.39\n')[0]!.hunks.length, 1);
  });

  it('the layer README says what the patch changes and which bmcweb revisions it was checked against', () => {
    const readme = read(join(layerDir, 'README.md'));
    assert.ok(readme.includes('0001-Restore-the-vm-nbdproxy-build-option.patch'));
    assert.match(readme, /7debb8928f/);
    for (const path of files.map((f) => f.path)) assert.ok(readme.includes(path), `README names ${path}`);
  });
});
