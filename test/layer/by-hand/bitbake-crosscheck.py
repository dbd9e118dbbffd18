# By-hand cross-check of test/layer/support/bitbake-data.ts against real
# BitBake: parses the bmcweb stand-in (with and without the layer's append)
# and the virtual-media recipe with BitBake's own parser and datastore, and
# prints, as JSON, the values the layer tests read through their model.
#   usage: bitbake-crosscheck.py BITBAKE_CHECKOUT LAYER_DIR FIXTURES_DIR
# Not run in CI (no BitBake there); bitbake-crosscheck.ts runs and compares it.
# The configuration and classes are minimal stand-ins written here (same as
# the tests' classStandIns), in a scratch BBPATH.
import json, os, sys, tempfile
bitbake = sys.argv[1]
sys.path.insert(0, os.path.join(bitbake, 'lib'))
import bb, bb.data, bb.parse, bb.siggen, bb.event, bb.utils
import bb.parse.parse_py.BBHandler as BBHandler

BBPATH = tempfile.mkdtemp(prefix='vm-bitbake-')
os.makedirs(os.path.join(BBPATH, 'conf'))
os.makedirs(os.path.join(BBPATH, 'classes'))
def write(path, text):
    with open(os.path.join(BBPATH, path), 'w') as f:
        f.write(text)
write('conf/bitbake.conf', '''THISDIR = "${@os.path.dirname(d.getVar('FILE'))}"
FILE_DIRNAME = "${@os.path.dirname(d.getVar('FILE'))}"
FILESEXTRAPATHS ?= "__default:"
OVERRIDES = "arm:class-target:pn-${PN}"
PTEST_ENABLED = "0"
''')
# base.bbclass's PACKAGECONFIG handling, reduced to PACKAGECONFIG_CONFARGS.
write('classes/base.bbclass', '''python () {
    enabled = (d.getVar('PACKAGECONFIG') or "").split()
    args = []
    for flag, value in (d.getVarFlags("PACKAGECONFIG") or {}).items():
        if flag in ("doc", "defaultval") or flag.startswith("_"):
            continue
        items = (d.expand(value) or "").split(",")
        arg = items[0] if flag in enabled else (items[1] if len(items) > 1 else "")
        if arg.strip():
            args.append(arg.strip())
    d.setVar("PACKAGECONFIG_CONFARGS", " ".join(args))
}
''')
write('classes/meson.bbclass', 'EXTRA_OEMESON:append = " ${PACKAGECONFIG_CONFARGS}"\ndo_install() {\n    meson install --destdir ${D}\n}\n')
for c in ('systemd', 'useradd', 'pkgconfig', 'ptest', 'features_check', 'python3native', 'allarch'):
    write('classes/%s.bbclass' % c, '')

def base_config(local):
    d = bb.data.init()
    d.setVar('BBPATH', BBPATH)
    d.setVar('TOPDIR', BBPATH)
    bb.parse.handle('conf/bitbake.conf', d)
    for k, v in local.items():
        d.setVar(k, v)
    d.setVar('__bbclasstype', 'global')
    BBHandler.inherit('base', 'configuration INHERITs', 0, d)
    d.setVar('__bbclasstype', 'recipe')
    bb.parse.siggen = bb.siggen.init(d)
    return d

def parse(recipe, appends, local, pn):
    d = base_config(dict(local, PN=pn))
    d.setVar('__BBAPPEND', ' '.join(appends))
    return bb.parse.handle(recipe, d, 0)['']

def snapshot(d):
    out = {}
    for k in sorted(d.keys()):
        if k.startswith('__') or k in ('FILE', 'BBINCLUDED', 'BB_TASKDEPDATA', 'PACKAGECONFIG_CONFARGS'): continue
        try:
            out[k] = [d.getVar(k, False), d.getVar(k)]
        except Exception as e:
            out[k] = ['ERR', str(e)]
        for f, v in (d.getVarFlags(k) or {}).items():
            if f.startswith('_') or f in ('filename', 'lineno', 'func', 'python', 'task'): continue
            out['%s[%s]' % (k, f)] = str(v)
    return out

layer = sys.argv[2]; fixtures = sys.argv[3]
append = os.path.join(layer, 'dynamic-layers/phosphor-layer/recipes-phosphor/interfaces/bmcweb_%.bbappend')
recipe = os.path.join(fixtures, 'bmcweb_git.bb')
ON = {'DISTRO_FEATURES': 'systemd usrmerge virtual-media'}
OFF = {'DISTRO_FEATURES': 'systemd usrmerge'}
res = {}
on = parse(recipe, [append], ON, 'bmcweb')
for v in ('EXTRA_OEMESON', 'SRC_URI', 'RDEPENDS:bmcweb', 'FILES:bmcweb', 'FILESEXTRAPATHS', 'do_install'):
    res['on ' + v] = on.getVar(v)
own = parse(recipe, [append], dict(ON, VIRTUAL_MEDIA_BMCWEB_PATCH='file://my-vm-nbdproxy.patch'), 'bmcweb')
res['own SRC_URI'] = own.getVar('SRC_URI')
machine = parse(recipe, [append, os.path.join(fixtures, 'machine-meson-options.bbappend')], ON, 'bmcweb')
res['machine EXTRA_OEMESON'] = machine.getVar('EXTRA_OEMESON')
alone = snapshot(parse(recipe, [], OFF, 'bmcweb'))
withlayer = snapshot(parse(recipe, [append], OFF, 'bmcweb'))
res['off identical'] = alone == withlayer
res['off differences'] = {k: (alone.get(k), withlayer.get(k)) for k in set(alone) | set(withlayer) if alone.get(k) != withlayer.get(k)}
res['off SRC_URI'] = parse(recipe, [append], OFF, 'bmcweb').getVar('SRC_URI')
vm = os.path.join(layer, 'recipes-bmc/virtual-media/virtual-media_0.1.0.bb')
vmd = parse(vm, [], dict(ON, PV='0.1.0'), 'virtual-media')
for v in ('SRC_URI', 'FILESEXTRAPATHS', 'S'):
    res['vm ' + v] = vmd.getVar(v)
res['vm SRC_URI[sha256sum]'] = vmd.getVarFlag('SRC_URI', 'sha256sum')
vmdir = parse(vm, [], dict(ON, PV='0.1.0', VIRTUAL_MEDIA_RELEASE_DIR='/srv/release'), 'virtual-media')
res['vm dir FILESEXTRAPATHS'] = vmdir.getVar('FILESEXTRAPATHS')
import shutil; shutil.rmtree(BBPATH)
print(json.dumps(res, indent=1))
