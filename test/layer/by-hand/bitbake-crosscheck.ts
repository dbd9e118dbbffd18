// By hand, where a BitBake checkout is at hand (CI has none):
//   npx tsx test/layer/by-hand/bitbake-crosscheck.ts /path/to/bitbake
// Runs bitbake-crosscheck.py (real BitBake parsing the bmcweb stand-in with
// and without the layer's append, and the virtual-media recipe) and compares
// every value with what the layer tests' datastore model gives. Exits 1 on
// any difference.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BitbakeData } from '../support/bitbake-data.js';
import { layerDir, packageVersion } from '../support/layer-files.js';
import { bmcwebAppend, fixturesDir, parseBmcweb } from '../support/openbmc-recipes.js';

const bitbake = process.argv[2];
if (!bitbake) {
  console.error('usage: bitbake-crosscheck.ts BITBAKE_CHECKOUT (a clone of openembedded/bitbake)');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const real = JSON.parse(execFileSync('python3', [join(here, 'bitbake-crosscheck.py'), bitbake, layerDir, fixturesDir], { encoding: 'utf8' })) as Record<string, unknown>;

const ON = 'systemd usrmerge virtual-media';
const OFF = 'systemd usrmerge';
const model: Record<string, unknown> = {};
const on = parseBmcweb({ distroFeatures: ON, appends: [bmcwebAppend] });
for (const v of ['EXTRA_OEMESON', 'SRC_URI', 'RDEPENDS:bmcweb', 'FILES:bmcweb', 'FILESEXTRAPATHS']) model[`on ${v}`] = on.get(v);
model['on do_install'] = on.raw('do_install');
model['own SRC_URI'] = parseBmcweb({ distroFeatures: ON, appends: [bmcwebAppend], localConf: 'VIRTUAL_MEDIA_BMCWEB_PATCH = "file://my-vm-nbdproxy.patch"' }).get('SRC_URI');
model['machine EXTRA_OEMESON'] = parseBmcweb({ distroFeatures: ON, appends: [bmcwebAppend, join(fixturesDir, 'machine-meson-options.bbappend')] }).get('EXTRA_OEMESON');
model['off SRC_URI'] = parseBmcweb({ distroFeatures: OFF, appends: [bmcwebAppend] }).get('SRC_URI');
model['off identical'] = true;
const vm = (localConf: string): BitbakeData =>
  new BitbakeData(['arm', 'class-target', 'pn-virtual-media'], { features_check: '', systemd: '', python3native: '', allarch: '' })
    .parse('conf/local.conf', `FILESEXTRAPATHS ?= "__default:"\nPN = "virtual-media"\nPV = "${packageVersion()}"\nDISTRO_FEATURES = "${ON}"\n${localConf}`)
    .parse(join(layerDir, `recipes-bmc/virtual-media/virtual-media_${packageVersion()}.bb`))
    .finish();
const d = vm('');
for (const v of ['SRC_URI', 'FILESEXTRAPATHS', 'S']) model[`vm ${v}`] = d.get(v);
model['vm SRC_URI[sha256sum]'] = d.flag('SRC_URI', 'sha256sum');
model['vm dir FILESEXTRAPATHS'] = vm('VIRTUAL_MEDIA_RELEASE_DIR = "/srv/release"').get('FILESEXTRAPATHS');

let differ = 0;
for (const [key, value] of Object.entries(model)) {
  if (JSON.stringify(real[key]) === JSON.stringify(value)) continue;
  differ++;
  console.log(`DIFFERS ${key}\n  bitbake: ${JSON.stringify(real[key])}\n  model:   ${JSON.stringify(value)}`);
}
if (!real['off identical']) console.log('bitbake sees differences with the feature off:', JSON.stringify(real['off differences']));
console.log(`${Object.keys(model).length - differ} of ${Object.keys(model).length} values identical to real BitBake (feature off, whole datastore: ${real['off identical'] ? 'identical' : 'DIFFERENT'})`);
process.exit(differ === 0 && real['off identical'] ? 0 : 1);
