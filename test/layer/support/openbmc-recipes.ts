// The bmcweb recipe as bitbake would read it with and without this layer's
// append, on the datastore model of bitbake-data.ts: a stand-in of
// meta-phosphor's bmcweb_git.bb (fixtures/openbmc/), stand-ins for the
// classes it inherits, a configuration with or without the opt-in.
import { join } from 'node:path';
import { BitbakeData, applyPackageconfig, type ClassTexts } from './bitbake-data.js';
import { layerDir, repoRoot } from './layer-files.js';

export const fixturesDir = join(repoRoot, 'test/layer/fixtures/openbmc');
export const bmcwebStandIn = join(fixturesDir, 'bmcweb_git.bb');
export const bmcwebAppendDir = join(layerDir, 'dynamic-layers/phosphor-layer/recipes-phosphor/interfaces');
export const bmcwebAppend = join(bmcwebAppendDir, 'bmcweb_%.bbappend');
export const bmcwebPatchName = '0001-Restore-the-vm-nbdproxy-build-option.patch';
export const bmcwebPatch = join(bmcwebAppendDir, 'bmcweb', bmcwebPatchName);

// What the real classes do that the append could interact with: meson.bbclass
// appends PACKAGECONFIG_CONFARGS to EXTRA_OEMESON and provides do_install;
// the others set nothing the tests look at.
export const classStandIns: ClassTexts = {
  meson: 'EXTRA_OEMESON:append = " ${PACKAGECONFIG_CONFARGS}"\ndo_install() {\n    meson install --destdir ${D}\n}\n',
  systemd: '',
  useradd: '',
  pkgconfig: '',
  ptest: '',
};

export interface BuildConf {
  /** DISTRO_FEATURES of the build. */
  distroFeatures: string;
  /** Extra local.conf lines (BitBake syntax). */
  localConf?: string;
  /** Appends parsed after the recipe, in order. */
  appends?: string[];
}

/** bmcweb's datastore after parsing: recipe, appends, PACKAGECONFIG, final key names. */
export function parseBmcweb(conf: BuildConf): BitbakeData {
  const d = new BitbakeData(['arm', 'class-target', 'pn-bmcweb'], classStandIns);
  d.parse(
    'conf/local.conf',
    [
      // bitbake.conf's defaults for the names the recipe and append use.
      'FILESEXTRAPATHS ?= "__default:"',
      'PN = "bmcweb"',
      'PTEST_ENABLED = "0"',
      `DISTRO_FEATURES = "${conf.distroFeatures}"`,
      conf.localConf ?? '',
    ].join('\n'),
  );
  d.parse(bmcwebStandIn);
  for (const append of conf.appends ?? []) d.parse(append);
  applyPackageconfig(d);
  return d.finish();
}

/** Directories FILESEXTRAPATHS adds to bmcweb's FILESPATH (BitBake's "__default" marker left out). */
export function extraPaths(d: BitbakeData): string[] {
  return (d.get('FILESEXTRAPATHS') ?? '').split(':').filter((p) => p !== '' && p !== '__default');
}
