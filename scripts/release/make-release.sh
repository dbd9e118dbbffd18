#!/usr/bin/env bash
# Makes the release tarball the Yocto recipes build from:
#   <out>/meta-virtual-media-<version>.tgz   (npm pack output, top dir package/)
# holding
#   dist/virtual-mediad.mjs   the daemon, bundled into one ESM file
#   dist/client/              the typed client library (ESM .js + .d.ts), with
#                             its own package.json: the package the image
#                             installs as openbmc-virtual-media-client
#   node_modules/openbmc-dbus-unix-fd/
#                             our unix-fd addon's SOURCES (package.json,
#                             binding.gyp, src/unix_fd.c), built for the
#                             target by the recipe
#   licenses/<package>/      license texts of the packages bundled into dist/
#   config/virtual-media.json, package.json, LICENSE
# and writes <tarball>.sha256 next to it.
# (The npm packages for other TypeScript projects, pdi-tsgen,
# openbmc-dbus-runtime and openbmc-virtual-media-client, are made by
# `npm run build`, scripts/packages/build.ts, from the same sources.)
#
# Usage: scripts/release/make-release.sh [--out DIR] [--pin] [--help]
#   --out DIR  where the tarball goes (default: release/ in the repository,
#              where the layer's recipes look for it: VIRTUAL_MEDIA_RELEASE_DIR)
#   --pin      also write the tarball's sha256 into the recipes'
#              virtual-media-release.inc (VIRTUAL_MEDIA_RELEASE_SHA256), the
#              checksum bitbake checks a published (https) tarball against;
#              do this for the tarball you publish, and commit the change
#
# Inputs (override with environment variables):
#   VM_DAEMON_ENTRY  daemon entry point (default: first of daemon/src/main.ts,
#                    daemon/main.ts)
#   VM_CLIENT_ENTRY  client library entry (default: client/index.ts)
#   VM_CONFIG        default config (default: first of config/virtual-media.json,
#                    daemon/config/virtual-media.json)
#   VM_LICENSE       license file shipped as package/LICENSE (default: LICENSE)
#   VM_RELEASE_INC   the .inc --pin writes (default: the layer's
#                    recipes-bmc/virtual-media/virtual-media-release.inc)
# Works offline: everything comes from the checkout and its node_modules.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

out=$root/release
pin=0
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --pin) pin=1; shift ;;
        --help)
            echo "usage: scripts/release/make-release.sh [--out DIR] [--pin]"
            echo "default output directory: $out"
            exit 0 ;;
        *) echo "make-release.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

fail() {
    echo "make-release.sh: $*" >&2
    exit 1
}

first_existing() {
    for candidate in "$@"; do
        if [ -f "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

daemon_entry=${VM_DAEMON_ENTRY:-$(first_existing daemon/src/main.ts daemon/main.ts || true)}
[ -n "$daemon_entry" ] && [ -f "$daemon_entry" ] ||
    fail "daemon bundle not built yet: no daemon entry point (looked for daemon/src/main.ts, daemon/main.ts; set VM_DAEMON_ENTRY)"
client_entry=${VM_CLIENT_ENTRY:-$(first_existing client/index.ts || true)}
[ -n "$client_entry" ] && [ -f "$client_entry" ] ||
    fail "client library not built yet: no client entry point (looked for client/index.ts; set VM_CLIENT_ENTRY)"
config=${VM_CONFIG:-$(first_existing config/virtual-media.json daemon/config/virtual-media.json || true)}
[ -n "$config" ] && [ -f "$config" ] ||
    fail "no default config (looked for config/virtual-media.json, daemon/config/virtual-media.json; set VM_CONFIG)"
license=${VM_LICENSE:-LICENSE}
inc=${VM_RELEASE_INC:-meta-virtual-media/recipes-bmc/virtual-media/virtual-media-release.inc}
if [ "$pin" = 1 ]; then
    grep -q '^VIRTUAL_MEDIA_RELEASE_SHA256 = "[0-9a-f]*"$' "$inc" ||
        fail "--pin: $inc has no VIRTUAL_MEDIA_RELEASE_SHA256 = \"...\" line to write the sha256 into"
fi
[ -f "$license" ] || fail "no $license file (the project's license text, shipped as package/LICENSE)"

version=$(node -p "require('./package.json').version")
# A fresh staging directory per run, so that concurrent runs (tests, CI) do
# not trample each other; nothing of its path ends up in the tarball.
mkdir -p "$root/.cache/release"
stage=$(mktemp -d "$root/.cache/release/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/dist/client" "$stage/config" "$stage/node_modules"

# 1. The daemon in one ESM file, made by the daemon's own bundle script
#    (small stand-ins for xml2js and assert; only our unix-fd addon,
#    unix_fd.node, stays outside and is loaded from node_modules next to the
#    bundle).
node --import tsx daemon/build/bundle.ts --entry "$daemon_entry" --outfile "$stage/dist/virtual-mediad.mjs" \
    --metafile "$stage/daemon.meta.json" >/dev/null

# 2. The client library: one ESM file with dbus-next inside (the image has
#    no dbus-next package of its own; the unix-fd addon, for a service that
#    passes fds, is found at run time as for the daemon), and declarations.
#    usocket and x11 are dbus-next branches the runtime never takes.
node_modules/.bin/esbuild "$client_entry" --bundle --platform=node --format=esm --target=node20 \
    --external:usocket --external:x11 --legal-comments=eof --log-level=warning \
    "--banner:js=import { createRequire as __vmCreateRequire } from 'node:module'; const require = __vmCreateRequire(import.meta.url);" \
    --metafile="$stage/client.meta.json" --outfile="$stage/dist/client/index.js"
types_dir=$stage/dist/client/types
node_modules/.bin/tsc --ignoreConfig --declaration --emitDeclarationOnly --skipLibCheck --strict \
    --module NodeNext --moduleResolution NodeNext --target ES2022 --types node \
    --rootDir "$root" --outDir "$types_dir" "$client_entry"
client_types="./dist/client/types/${client_entry%.ts}.d.ts"
[ -f "$stage/$client_types" ] || fail "tsc did not write $client_types"
# dist/client/ is also a package of its own, the one the image installs
# under /usr/lib/node_modules: named like the npm package of the same API
# (client/package.json), so a service imports it by one name on the BMC and
# in development.
STAGE=$stage CLIENT_TYPES=$client_types node --input-type=module -e '
import { readFileSync, writeFileSync } from "node:fs";
const npm = JSON.parse(readFileSync("client/package.json", "utf8"));
const types = process.env.CLIENT_TYPES.replace(/^\.\/dist\/client\//, "./");
const manifest = {
  name: npm.name,
  version: npm.version,
  description: npm.description,
  license: npm.license,
  type: "module",
  engines: npm.engines,
  exports: { ".": { types, import: "./index.js" }, "./package.json": "./package.json" },
  types,
};
writeFileSync(`${process.env.STAGE}/dist/client/package.json`, JSON.stringify(manifest, null, 2) + "\n");
'

# 3. The addon's sources (it needs no other module), from the checkout; any
#    host build output is left out.
addon=openbmc-dbus-unix-fd
addon_src=codegen/runtime/unix-fd
runtime_modules=$addon
[ -f "$addon_src/src/unix_fd.c" ] && [ -f "$addon_src/binding.gyp" ] || fail "no unix-fd addon sources in $addon_src"
mkdir -p "$stage/node_modules/$addon/src"
cp "$addon_src/package.json" "$addon_src/binding.gyp" "$stage/node_modules/$addon/"
cp "$addon_src/src/unix_fd.c" "$stage/node_modules/$addon/src/"

# 4. License texts of the packages bundled into the two JavaScript files
#    (their code is in dist/, their package directories are not), for the
#    recipes' LIC_FILES_CHKSUM: licenses/<package>/<license file>.
STAGE=$stage node --input-type=module -e '
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
const stage = process.env.STAGE;
const bundled = new Set();
for (const meta of ["daemon.meta.json", "client.meta.json"]) {
  for (const input of Object.keys(JSON.parse(readFileSync(`${stage}/${meta}`, "utf8")).inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) bundled.add(m[1]);
  }
  rmSync(`${stage}/${meta}`);
}
for (const name of [...bundled].sort()) {
  const files = readdirSync(`node_modules/${name}`).filter((f) => /^(licen[cs]e|copying)/i.test(f));
  if (files.length === 0) throw new Error(`bundled package ${name} has no license file`);
  mkdirSync(`${stage}/licenses/${name}`, { recursive: true });
  for (const f of files) cpSync(`node_modules/${name}/${f}`, `${stage}/licenses/${name}/${f}`);
}
'

cp "$config" "$stage/config/virtual-media.json"
cp "$license" "$stage/LICENSE"

# 5. The package manifest: what npm pack needs, and the ./client export.
STAGE=$stage CLIENT_TYPES=$client_types RUNTIME_MODULES=$runtime_modules node --input-type=module -e '
import { readFileSync, writeFileSync } from "node:fs";
const root = JSON.parse(readFileSync("package.json", "utf8"));
const stage = process.env.STAGE;
const modules = process.env.RUNTIME_MODULES.split(" ");
const dependencies = {};
for (const name of modules) {
  dependencies[name] = JSON.parse(readFileSync(`${stage}/node_modules/${name}/package.json`, "utf8")).version;
}
const manifest = {
  name: root.name,
  version: root.version,
  description: root.description,
  license: root.license,
  type: "module",
  engines: root.engines,
  exports: {
    "./client": { types: process.env.CLIENT_TYPES, import: "./dist/client/index.js" },
    "./package.json": "./package.json",
  },
  files: ["dist/", "config/", "licenses/", "LICENSE"],
  dependencies,
  bundleDependencies: modules,
};
writeFileSync(`${stage}/package.json`, JSON.stringify(manifest, null, 2) + "\n");
'

tarball=$out/meta-virtual-media-$version.tgz
rm -f "$tarball"
(cd "$stage" && npm pack --silent --offline --ignore-scripts --pack-destination "$out" >/dev/null)
[ -f "$tarball" ] || fail "npm pack did not write $tarball"
sha=$(sha256sum "$tarball" | cut -d' ' -f1)
echo "$sha  $(basename "$tarball")" > "$tarball.sha256"

if [ "$pin" = 1 ]; then
    sed -i -E "s/^VIRTUAL_MEDIA_RELEASE_SHA256 = \"[0-9a-f]*\"$/VIRTUAL_MEDIA_RELEASE_SHA256 = \"$sha\"/" "$inc"
    echo "pinned $sha in $inc"
fi
echo "$tarball"
