// Structural rules yocto-check-layer applies (README, SECURITY.md,
// LAYERSERIES_COMPAT, Upstream-Status, file:// present, licenses), plus this
// layer's own: no network fetchers, appends only through the opt-in require,
// every recipe inert without DISTRO_FEATURES "virtual-media".
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RecipeVars, assignments, logicalLines, recipeWithIncludes } from './support/bitbake-vars.js';
import {
  appendProblems,
  kernelConfigProblems,
  placeholderAddressProblems,
  missingFileUris,
  networkProblems,
  patchProblems,
  readmeProblems,
} from './support/layer-rules.js';
import { layerDir, layerFiles, metadataFiles, packageVersion, read, rel, repoRoot } from './support/layer-files.js';

const layerConf = join(layerDir, 'conf/layer.conf');
const kernelFiles = join(layerDir, 'dynamic-layers/aspeed-layer/recipes-kernel/linux/linux-aspeed');

function value(text: string, name: string): string | undefined {
  return assignments(logicalLines(text).join('\n')).find((a) => (a.override ? `${a.name}:${a.override}` : a.name) === name)?.value;
}

function recipes(): string[] {
  return layerFiles().filter((f) => f.endsWith('.bb'));
}

function appends(): string[] {
  return layerFiles().filter((f) => f.endsWith('.bbappend'));
}

/** bitbake's BPN and PV from a recipe or append file name (foo_1.0.bb, foo_%.bbappend). */
function nameParts(path: string): { bpn: string; pv?: string } {
  const [bpn, rest] = basename(path).replace(/\.(bb|bbappend)$/, '').split('_');
  return { bpn: bpn!, pv: rest && rest !== '%' ? rest : undefined };
}

describe('layer: structure (yocto-check-layer rules)', () => {
  describe('layer.conf', () => {
    const conf = read(layerConf);

    it('declares the collection, its pattern, priority and version', () => {
      assert.match(conf, /^BBFILE_COLLECTIONS \+= "virtual-media-layer"$/m);
      assert.match(conf, /^BBFILE_PATTERN_virtual-media-layer := "\^\$\{LAYERDIR\}\/"$/m);
      assert.match(conf, /^BBFILE_PRIORITY_virtual-media-layer = "\d+"$/m);
      assert.match(conf, /^LAYERVERSION_virtual-media-layer = "\d+"$/m);
    });

    it('sets LAYERSERIES_COMPAT to the current releases (whinlatter wrynose)', () => {
      const compat = value(conf, 'LAYERSERIES_COMPAT_virtual-media-layer');
      assert.ok(compat, 'LAYERSERIES_COMPAT_virtual-media-layer is not set');
      assert.deepEqual(compat.split(' ').sort(), ['whinlatter', 'wrynose']);
    });

    it('depends on core, openembedded-layer (nodejs) and networking-layer (nbd, nbdkit)', () => {
      const depends = value(conf, 'LAYERDEPENDS_virtual-media-layer')?.split(' ') ?? [];
      for (const needed of ['core', 'openembedded-layer', 'networking-layer']) assert.ok(depends.includes(needed), `LAYERDEPENDS lacks ${needed}`);
    });

    it('has a BBFILES_DYNAMIC entry for every dynamic-layers/<collection> and no others', () => {
      const present = readdirSync(join(layerDir, 'dynamic-layers')).sort();
      const declared = [...conf.matchAll(/^\s*([\w-]+):\$\{LAYERDIR\}\/dynamic-layers\/([\w-]+)\//gm)];
      for (const [, collection, dir] of declared) assert.equal(collection, dir, `BBFILES_DYNAMIC ${collection} points at dynamic-layers/${dir}`);
      assert.deepEqual([...new Set(declared.map((m) => m[1]))].sort(), present);
      assert.deepEqual(present, ['aspeed-layer', 'phosphor-layer']);
    });
  });

  describe('documents', () => {
    it('README.md names a maintainer, says where patches go and gives an e-mail address', () => {
      assert.deepEqual(readmeProblems(read(join(layerDir, 'README.md'))), []);
    });

    it('the README rule rejects a README without them', () => {
      assert.equal(readmeProblems('# A layer\nIt builds things.\n').length, 3);
    });

    it('README.md tells how to opt in and how to check the layer with bitbake and yocto-check-layer', () => {
      const readme = read(join(layerDir, 'README.md'));
      assert.ok(readme.includes('DISTRO_FEATURES:append = " virtual-media"'), 'the opt-in line');
      assert.match(readme, /^\s+bitbake -p$/m);
      assert.match(readme, /^\s+yocto-check-layer --dependency/m);
      assert.match(readme, /bitbake-layers add-layer/);
      assert.match(readme, /scarthgap/);
      assert.match(readme, /32 MiB/);
    });

    it('a placeholder address (reserved domain) is never passed off as a real maintainer', () => {
      for (const doc of ['README.md', 'SECURITY.md']) assert.deepEqual(placeholderAddressProblems(doc, read(join(layerDir, doc))), []);
      assert.equal(placeholderAddressProblems('x', 'Maintainer: Team <team@users.noreply.h-seed-1.example>\n').length, 1);
      assert.equal(placeholderAddressProblems('x', 'Maintainer: Team <team@example.com>\n').length, 1);
      assert.deepEqual(placeholderAddressProblems('x', 'Maintainer: not assigned yet <unassigned@maintainer.invalid>\n'), []);
      assert.deepEqual(placeholderAddressProblems('x', 'Maintainer: Jane <jane@lists.openembedded.org>\n'), []);
    });

    it('SECURITY.md says how to report a vulnerability, with an address', () => {
      const security = read(join(layerDir, 'SECURITY.md'));
      assert.match(security, /report/i);
      assert.match(security, /[\w.+-]+@[\w-]+(\.[\w-]+)+/);
    });

    it('COPYING.MIT is the MIT license of the metadata', () => {
      assert.match(read(join(layerDir, 'COPYING.MIT')), /Permission is hereby granted, free of charge/);
    });
  });

  describe('patches and kernel configuration', () => {
    it('every patch in the layer carries an Upstream-Status', () => {
      const patches = layerFiles().filter((f) => f.endsWith('.patch'));
      assert.ok(patches.length > 0, 'the layer has no patch (the linux-aspeed I/O statistics patch is missing)');
      assert.deepEqual(patches.flatMap((p) => patchProblems(rel(p), read(p))), []);
    });

    it('the Upstream-Status rule rejects a patch without one or with an unknown value', () => {
      assert.equal(patchProblems('a.patch', 'Subject: x\n---\n diff\n').length, 1);
      assert.equal(patchProblems('b.patch', 'Upstream-Status: Maybe\n---\n').length, 1);
      assert.equal(patchProblems('c.patch', 'Subject: x\n---\nUpstream-Status: Pending\n').length, 1, 'only the header counts');
      assert.deepEqual(patchProblems('d.patch', 'Subject: x\n\nUpstream-Status: Submitted [lore]\n---\n'), []);
    });

    it('every .cfg fragment is valid Kconfig syntax', () => {
      const fragments = layerFiles().filter((f) => f.endsWith('.cfg'));
      assert.ok(fragments.some((f) => f === join(kernelFiles, 'virtual-media.cfg')), 'linux-aspeed/virtual-media.cfg is missing');
      assert.deepEqual(fragments.flatMap((f) => kernelConfigProblems(rel(f), read(f))), []);
    });

    it('the Kconfig rule rejects malformed lines and duplicates', () => {
      assert.equal(kernelConfigProblems('x.cfg', 'CONFIG_FOO=maybe\n').length, 2);
      assert.equal(kernelConfigProblems('x.cfg', 'CONFIG_FOO=y\n# CONFIG_FOO is not set\n').length, 1);
      assert.equal(kernelConfigProblems('x.cfg', 'CONFIG_FOO = y\n').length, 2);
      assert.equal(kernelConfigProblems('x.cfg', '#CONFIG_FOO=y\nCONFIG_BAR=y\n').length, 1);
      assert.deepEqual(kernelConfigProblems('x.cfg', '# comment\nCONFIG_A=y\nCONFIG_B="s"\nCONFIG_C=0x10\n# CONFIG_D is not set\n'), []);
    });
  });

  describe('fetching', () => {
    it('every file:// in SRC_URI exists where bitbake will look for it', () => {
      const problems: string[] = [];
      for (const path of [...recipes(), ...appends()]) {
        const { bpn, pv } = nameParts(path);
        problems.push(...missingFileUris(path, read(path), bpn, pv));
      }
      // .inc files are searched with the BPN of the recipe or append that requires them.
      for (const inc of metadataFiles().filter((f) => f.endsWith('.inc'))) {
        const owner = [...recipes(), ...appends()].find((f) => dirname(f) === dirname(inc) && read(f).includes(basename(inc)));
        assert.ok(owner, `${rel(inc)} is required by nothing`);
        const { bpn, pv } = nameParts(owner);
        problems.push(...missingFileUris(inc, read(inc), bpn, pv));
      }
      assert.deepEqual(problems, []);
    });

    it('the file:// rule reports a file that is not there', () => {
      const fake = join(layerDir, 'recipes-bmc/virtual-media/virtual-media_9.bb');
      assert.equal(missingFileUris(fake, 'SRC_URI = "file://no-such-file.sh"\n', 'virtual-media', '9').length, 1);
      assert.deepEqual(missingFileUris(fake, 'SRC_URI = "file://virtual-media-build.sh"\n', 'virtual-media', '9'), []);
    });

    it('no npm:// or npmsw:// fetcher and no [network] anywhere in the layer', () => {
      assert.deepEqual(metadataFiles().flatMap((f) => networkProblems(rel(f), read(f))), []);
    });

    it('the network rule catches each of them', () => {
      assert.equal(networkProblems('x.bb', 'SRC_URI = "npm://registry.npmjs.org;package=x"\n').length, 1);
      assert.equal(networkProblems('x.bb', 'SRC_URI = "npmsw://${THISDIR}/npm-shrinkwrap.json"\n').length, 1);
      assert.equal(networkProblems('x.bb', 'do_compile[network] = "1"\n').length, 1);
    });

    it('the recipes are the version in package.json and build from its release tarball', () => {
      for (const recipe of recipes().filter((r) => basename(r).startsWith('virtual-media'))) {
        assert.equal(nameParts(recipe).pv, packageVersion(), `${rel(recipe)} version`);
        assert.match(read(recipe), /\$\{VIRTUAL_MEDIA_RELEASE_URI\}/, `${rel(recipe)} fetches the release tarball`);
      }
      const release = read(join(layerDir, 'recipes-bmc/virtual-media/virtual-media-release.inc'));
      assert.match(release, /^VIRTUAL_MEDIA_RELEASE_URI \?\?= "file:\/\/meta-virtual-media-\$\{PV\}\.tgz"$/m);
      assert.match(release, /^VIRTUAL_MEDIA_RELEASE_SHA256 = "(?:[0-9a-f]{64})?"$/m, 'empty, or pinned by make-release.sh --pin');
      assert.match(release, /^SRC_URI\[sha256sum\] = "\$\{VIRTUAL_MEDIA_RELEASE_SHA256\}"$/m);
      assert.match(release, /^S = "\$\{UNPACKDIR\}\/package"$/m);
    });
  });

  describe('licenses', () => {
    it('every recipe with sources has LICENSE and LIC_FILES_CHKSUM with an md5 per file', () => {
      for (const recipe of recipes()) {
        const text = read(recipe);
        if (/^inherit .*\bpackagegroup\b/m.test(text)) continue; // no sources, LICENSE comes from packagegroup.bbclass
        assert.ok(value(text, 'LICENSE'), `${rel(recipe)} has no LICENSE`);
        assert.ok(value(text, 'LIC_FILES_CHKSUM'), `${rel(recipe)} has no LIC_FILES_CHKSUM`);
        const chksum = new RecipeVars(recipeWithIncludes(recipe), {}).get('LIC_FILES_CHKSUM');
        for (const entry of chksum.split(' ').filter(Boolean)) assert.match(entry, /^file:\/\/[^;]+;md5=[0-9a-f]{32}$/, `${rel(recipe)}: ${entry}`);
      }
    });

    it("LIC_FILES_CHKSUM names the project's LICENSE, which exists at the repository root", () => {
      // The release script ships the root LICENSE as package/LICENSE; the
      // md5 itself is checked against the tarball in release-build.test.ts.
      const license = join(repoRoot, 'LICENSE');
      assert.ok(existsSync(license), 'LICENSE (Apache-2.0 text) is missing at the repository root');
      const recipe = read(join(layerDir, `recipes-bmc/virtual-media/virtual-media_${packageVersion()}.bb`));
      const want = /file:\/\/LICENSE;md5=([0-9a-f]{32})/.exec(recipe)?.[1];
      assert.equal(createHash('md5').update(readFileSync(license)).digest('hex'), want, 'md5 of LICENSE');
    });
  });

  describe('opt-in: adding the layer changes nothing until DISTRO_FEATURES has virtual-media', () => {
    it('every bbappend holds only the opt-in require of an existing .inc', () => {
      const files = appends();
      assert.ok(files.length >= 4, 'expected appends for nbdkit, linux-aspeed, bmcweb and obmc-phosphor-image');
      assert.deepEqual(files.flatMap((f) => appendProblems(f, read(f))), []);
    });

    it('the append rule rejects anything else in a bbappend', () => {
      const inLayer = join(layerDir, 'recipes-support/nbdkit/nbdkit_%.bbappend');
      assert.equal(appendProblems(inLayer, 'SRC_URI += "file://x.patch"\n').length, 1);
      assert.equal(appendProblems(inLayer, "require nbdkit-virtual-media.inc\n").length, 1);
      assert.equal(appendProblems(inLayer, "require ${@bb.utils.contains('DISTRO_FEATURES', 'virtual-media', 'nope.inc', '', d)}\n").length, 1);
      assert.equal(
        appendProblems(inLayer, "require ${@bb.utils.contains('DISTRO_FEATURES', 'virtual-media', 'nbdkit-virtual-media.inc', '', d)}\nPACKAGECONFIG = \"\"\n").length,
        1,
      );
    });

    it('the kernel append applies exactly the I/O statistics patch and virtual-media.cfg from linux-aspeed/', () => {
      const inc = read(join(dirname(kernelFiles), 'linux-aspeed-virtual-media.inc'));
      assert.match(inc, /^FILESEXTRAPATHS:prepend := "\$\{THISDIR\}\/linux-aspeed:"$/m);
      assert.ok(inc.includes('file://0001-usb-gadget-f_mass_storage-add-per-LUN-IO-statistics.patch'));
      assert.ok(inc.includes('file://virtual-media.cfg'));
    });

    it('every recipe is skipped unless the distro has the virtual-media feature', () => {
      for (const recipe of recipes()) {
        const text = read(recipe);
        assert.match(text, /^inherit .*\bfeatures_check\b/m, `${rel(recipe)} inherits features_check`);
        assert.ok(value(text, 'REQUIRED_DISTRO_FEATURES')?.split(' ').includes('virtual-media'), `${rel(recipe)} requires virtual-media`);
      }
    });
  });

  describe('the daemon recipe', () => {
    const recipe = read(join(layerDir, `recipes-bmc/virtual-media/virtual-media_${packageVersion()}.bb`));

    it('runs on nodejs with nbdkit and nbd-client, CIFS behind PACKAGECONFIG', () => {
      assert.deepEqual(value(recipe, 'RDEPENDS:${PN}')?.split(' '), ['nodejs', 'nbdkit', 'nbd-client']);
      assert.match(recipe, /^PACKAGECONFIG\[cifs\] = ",,,cifs-utils util-linux-mount,kernel-module-cifs"$/m, 'mount -t cifs -o credentials= needs mount.cifs');
      assert.match(recipe, /^PACKAGECONFIG \?\?= "cifs"$/m);
      assert.match(recipe, /^DEPENDS = "nodejs-native"$/m);
      assert.doesNotMatch(recipe, /^inherit .*\ballarch\b/m, 'it ships a native addon, so it cannot be allarch');
    });

    it('installs the unit, enabled through the systemd class', () => {
      assert.equal(value(recipe, 'SYSTEMD_SERVICE:${PN}'), 'xyz.openbmc_project.VirtualMedia.service');
      assert.match(recipe, /^inherit .*\bsystemd\b/m);
    });

    it('does its compile and install through virtual-media-build.sh, which it fetches', () => {
      assert.match(recipe, /sh \$\{UNPACKDIR\}\/virtual-media-build\.sh compile$/m);
      assert.match(recipe, /sh \$\{UNPACKDIR\}\/virtual-media-build\.sh install$/m);
      assert.match(recipe, /file:\/\/virtual-media-build\.sh/);
    });
  });
});
