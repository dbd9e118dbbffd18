// What the opt-in does to bmcweb, read through a model of BitBake's
// datastore (support/bitbake-data.ts) from the layer's real bmcweb append
// and a stand-in of meta-phosphor's bmcweb recipe: with DISTRO_FEATURES
// "virtual-media" bmcweb is patched, built with vm-nbdproxy on and
// vm-websocket off, loses jsnbd and installs the proxy socket directory;
// without it, not one variable differs from the recipe alone.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BitbakeData, applyPackageconfig, bitbakeLines, mesonOptions } from './support/bitbake-data.js';
import { bmcwebAppend, bmcwebPatchName, classStandIns, extraPaths, fixturesDir, parseBmcweb } from './support/openbmc-recipes.js';

const ON = 'systemd usrmerge virtual-media';
const OFF = 'systemd usrmerge';

/** Every variable and flag, unexpanded and expanded, for comparing two datastores. */
function snapshot(d: BitbakeData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of d.names()) {
    out[name] = `${JSON.stringify(d.raw(name))} => ${JSON.stringify(d.has(name) ? d.get(name) : undefined)}`;
    for (const flag of d.flagNames(name)) out[`${name}[${flag}]`] = JSON.stringify(d.flag(name, flag));
  }
  return out;
}

function fileUris(d: BitbakeData): string[] {
  return d.words('SRC_URI').filter((u) => u.startsWith('file://')).map((u) => u.slice('file://'.length).split(';')[0]!);
}

describe('layer: the bmcweb append, through a model of bitbake', () => {
  describe('with DISTRO_FEATURES "virtual-media"', () => {
    const on = parseBmcweb({ distroFeatures: ON, appends: [bmcwebAppend] });
    const off = parseBmcweb({ distroFeatures: OFF });

    it('builds with -Dvm-nbdproxy=enabled and -Dvm-websocket=disabled, every other meson option as before', () => {
      const args = mesonOptions(on.get('EXTRA_OEMESON')!);
      assert.equal(args.get('vm-nbdproxy'), 'enabled');
      assert.equal(args.get('vm-websocket'), 'disabled');
      const before = mesonOptions(off.get('EXTRA_OEMESON')!);
      assert.equal(before.get('vm-nbdproxy'), undefined, 'the stand-in leaves vm-nbdproxy alone');
      for (const [name, value] of before) assert.equal(args.get(name), value, `-D${name}`);
      assert.deepEqual([...args.keys()].sort(), [...before.keys(), 'vm-nbdproxy', 'vm-websocket'].sort());
    });

    it('drops jsnbd from bmcweb\'s runtime dependencies and keeps the rest', () => {
      assert.deepEqual(off.words('RDEPENDS:bmcweb'), ['jsnbd', 'phosphor-objmgr']);
      assert.deepEqual(on.words('RDEPENDS:bmcweb'), ['phosphor-objmgr']);
    });

    it("applies the layer's patch, fetched from the bmcweb/ directory next to the append", () => {
      const uris = fileUris(on);
      assert.ok(uris.includes(bmcwebPatchName), `SRC_URI: ${on.get('SRC_URI')}`);
      assert.deepEqual(off.words('SRC_URI'), on.words('SRC_URI').slice(0, off.words('SRC_URI').length), "bmcweb's own sources first, unchanged");
      const ours = uris.filter((u) => !fileUris(off).includes(u));
      assert.deepEqual(ours, [bmcwebPatchName, 'virtual-media-proxy.tmpfiles', 'virtual-media-proxy.conf']);
      for (const uri of ours) assert.ok(extraPaths(on).some((dir) => existsSync(join(dir, uri))), `file://${uri} is in none of ${extraPaths(on).join(', ')}`);
    });

    it('installs the proxy socket directory (tmpfiles.d) and the bmcweb drop-in, and packages both', () => {
      const install = on.raw('do_install')!;
      assert.match(install, /install -D -m 0644 \$\{UNPACKDIR\}\/virtual-media-proxy\.tmpfiles \$\{D\}\$\{nonarch_libdir\}\/tmpfiles\.d\/virtual-media-proxy\.conf/);
      assert.match(install, /install -D -m 0644 \$\{UNPACKDIR\}\/virtual-media-proxy\.conf \$\{D\}\$\{systemd_system_unitdir\}\/bmcweb\.service\.d\/virtual-media-proxy\.conf/);
      assert.ok(install.startsWith(off.raw('do_install')!), "meson's install comes first");
      const files = on.words('FILES:bmcweb');
      assert.ok(files.includes('${nonarch_libdir}/tmpfiles.d/virtual-media-proxy.conf'));
      assert.ok(files.includes('${systemd_system_unitdir}/bmcweb.service.d/virtual-media-proxy.conf'));
      assert.deepEqual(['virtual-media-proxy.tmpfiles', 'virtual-media-proxy.conf'].filter((f) => !fileUris(on).includes(f)), []);
    });

    it("an integrator's own patch replaces the layer's; an empty one leaves bmcweb's sources unpatched but the options on", () => {
      const own = parseBmcweb({ distroFeatures: ON, appends: [bmcwebAppend], localConf: 'VIRTUAL_MEDIA_BMCWEB_PATCH = "file://my-vm-nbdproxy.patch"' });
      assert.ok(fileUris(own).includes('my-vm-nbdproxy.patch'));
      assert.ok(!fileUris(own).includes(bmcwebPatchName));
      const none = parseBmcweb({ distroFeatures: ON, appends: [bmcwebAppend], localConf: 'VIRTUAL_MEDIA_BMCWEB_PATCH = ""' });
      assert.deepEqual(fileUris(none).filter((u) => u.endsWith('.patch')), []);
      assert.equal(mesonOptions(none.get('EXTRA_OEMESON')!).get('vm-nbdproxy'), 'enabled');
    });

    it("wins over a machine layer's += of -Dvm-websocket=enabled parsed after it (an append is applied last)", () => {
      const machine = join(fixturesDir, 'machine-meson-options.bbappend');
      const both = parseBmcweb({ distroFeatures: ON, appends: [bmcwebAppend, machine] });
      const args = mesonOptions(both.get('EXTRA_OEMESON')!);
      assert.equal(args.get('vm-websocket'), 'disabled');
      assert.equal(args.get('redfish-dump-log'), 'enabled', "the machine's other options stay");
      const alone = parseBmcweb({ distroFeatures: OFF, appends: [machine] });
      assert.equal(mesonOptions(alone.get('EXTRA_OEMESON')!).get('vm-websocket'), 'enabled', 'the fixture does set it');
    });

    it('leaves no ${...} unexpanded in what it sets', () => {
      const d = parseBmcweb({ distroFeatures: ON, appends: [bmcwebAppend] });
      for (const name of ['SRC_URI', 'EXTRA_OEMESON', 'RDEPENDS:bmcweb', 'FILESEXTRAPATHS']) d.get(name);
      assert.deepEqual([...d.unexpanded], []);
    });
  });

  describe('without it', () => {
    it('changes not one variable or flag of bmcweb (no trailing space in SRC_URI either)', () => {
      const alone = snapshot(parseBmcweb({ distroFeatures: OFF }));
      const withLayer = snapshot(parseBmcweb({ distroFeatures: OFF, appends: [bmcwebAppend] }));
      assert.deepEqual(withLayer, alone);
    });

    it('the comparison sees a single added space (the mistake of `SRC_URI += "${EMPTY}"`)', () => {
      const alone = parseBmcweb({ distroFeatures: OFF });
      const spaced = parseBmcweb({ distroFeatures: OFF });
      spaced.parse('spaced.bbappend', 'SRC_URI += ""\n');
      assert.equal(spaced.get('SRC_URI'), `${alone.get('SRC_URI')} `);
      assert.notDeepEqual(snapshot(spaced), snapshot(alone));
    });
  });
});

describe('layer: the BitBake datastore model', () => {
  const parse = (text: string, overrides: string[] = []): BitbakeData => new BitbakeData(overrides, classStandIns).parse('test.bb', text).finish();

  it('joins continued lines as bitbake does: backslash dropped, nothing added', () => {
    assert.deepEqual(bitbakeLines('A = "x \\\n    y"\nB = "z"\n'), [
      { line: 'A = "x     y"', lineno: 1 },
      { line: 'B = "z"', lineno: 3 },
      { line: '', lineno: 4 },
    ]);
  });

  it('follows the assignment operators and weak defaults', () => {
    const d = parse('A = "a"\nA += "b"\nA =+ "c"\nA .= "d"\nA =. "e"\nB ?= "1"\nB ?= "2"\nC ??= "weak"\nD ??= "weak"\nD = "strong"\nE ??= "w"\nE += "x"\n');
    assert.equal(d.get('A'), 'ec a bd');
    assert.equal(d.get('B'), '1');
    assert.equal(d.get('C'), 'weak');
    assert.equal(d.get('D'), 'strong');
    assert.equal(d.get('E'), ' x', '+= ignores a weak default, as bitbake does');
  });

  it('applies :append, :prepend and :remove after every assignment, and expands lazily unless :=', () => {
    const d = parse('A:append = " tail"\nA = "x jsnbd y"\nA:remove = "jsnbd"\nA:prepend = "head "\nB = "${C}"\nC = "early"\nE := "${C}"\nC = "late"\nF:append:pn-other = " no"\nF = "f"\n', ['pn-bmcweb']);
    assert.equal(d.get('A'), 'head x  y tail');
    assert.equal(d.get('B'), 'late');
    assert.equal(d.get('E'), 'early', ':= expands at once');
    assert.equal(d.get('F'), 'f');
  });

  it('picks the active override, renames ${PN} keys at the end, and evaluates bb.utils.contains', () => {
    const d = parse('PN = "bmcweb"\nX = "plain"\nX:arm = "arm"\nR:${PN} = "a b"\nR:${PN}:remove = "a"\nY = "${@bb.utils.contains(\'F\', \'p q\', \'yes\', \'no\', d)}"\nF = "q p r"\n', ['arm']);
    assert.equal(d.get('X'), 'arm');
    assert.equal(d.get('R:bmcweb'), ' b');
    assert.equal(d.get('Y'), 'yes');
  });

  it('follows the opt-in require: the .inc is read only when the feature is there', () => {
    const inc = "require ${@bb.utils.contains('DISTRO_FEATURES', 'virtual-media', 'bmcweb-virtual-media.inc', '', d)}\n";
    const off = new BitbakeData([], classStandIns).set('DISTRO_FEATURES', 'systemd').parse(bmcwebAppend, inc).finish();
    assert.equal(off.has('VIRTUAL_MEDIA_BMCWEB_PATCH'), false);
    const on = new BitbakeData([], classStandIns).set('DISTRO_FEATURES', 'systemd virtual-media').parse(bmcwebAppend, inc).finish();
    assert.equal(on.get('VIRTUAL_MEDIA_BMCWEB_PATCH'), `file://${bmcwebPatchName}`);
  });

  it('turns PACKAGECONFIG flags into PACKAGECONFIG_CONFARGS as base.bbclass does', () => {
    const d = parse('PACKAGECONFIG ??= "a"\nPACKAGECONFIG[a] = "--with-a,--without-a,liba"\nPACKAGECONFIG[b] = "--with-b,--without-b"\nPACKAGECONFIG[c] = "--with-c,"\n');
    applyPackageconfig(d);
    assert.equal(d.get('PACKAGECONFIG_CONFARGS'), '--with-a --without-b');
  });

  it('refuses what it cannot follow: other inline python, unknown statements, unknown classes, a missing require', () => {
    assert.throws(() => parse('A = "${@d.getVar(\'B\') or \'\'}"\n').get('A'), /inline python this model does not follow/);
    assert.throws(() => parse('addtask foo after bar\n'), /does not follow/);
    assert.throws(() => parse('inherit cmake\n'), /inherits cmake, which the test gives no stand-in for/);
    assert.throws(() => parse('require no-such.inc\n'), /could not require no-such\.inc/);
    assert.doesNotThrow(() => parse('include no-such.inc\n'));
  });
});
