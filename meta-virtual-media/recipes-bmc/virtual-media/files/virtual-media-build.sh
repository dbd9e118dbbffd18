#!/bin/sh
# Build and install steps of the virtual-media recipe, kept out of the recipe
# so that the offline layer tests run exactly the same commands on the real
# release tarball without bitbake (test/layer/release-build.test.ts).
#
#   virtual-media-build.sh compile   build the usocket addon for the target
#   virtual-media-build.sh install   install daemon, addon, unit, policy, config
#
# Everything comes in through the environment; nothing is fetched: the
# release tarball already holds the daemon bundle and the addon sources, and
# node-gyp gets the Node headers from NODE_DIR instead of downloading them.
set -eu

die() {
    echo "virtual-media-build.sh: $*" >&2
    exit 1
}

need() {
    for name in "$@"; do
        eval "value=\${$name:-}"
        [ -n "$value" ] || die "$name is not set"
    done
}

# compile: S (unpacked release, the "package/" directory), NODE (node that runs
# node-gyp), NODE_GYP (node-gyp.js), NODE_DIR (prefix holding include/node),
# NODE_ARCH (node-gyp --arch: arm, arm64, x64), CC/CXX (target compilers).
do_compile() {
    need S NODE NODE_GYP NODE_DIR NODE_ARCH CC CXX
    addon="$S/node_modules/usocket"
    [ -f "$addon/binding.gyp" ] || die "no usocket sources in $addon (is S the release's package/ directory?)"
    [ -f "$NODE_DIR/include/node/node.h" ] || die "no Node headers under $NODE_DIR/include/node"
    # gyp's make backend links with $(LINK), which defaults to the host c++.
    LINK="${LINK:-$CXX}"
    export CC CXX LINK
    cd "$addon"
    # node-gyp keeps a headers cache under HOME even with --nodedir: keep it
    # inside the build tree.
    HOME="$addon/.node-gyp-home" "$NODE" "$NODE_GYP" rebuild \
        --release --nodedir="$NODE_DIR" --arch="$NODE_ARCH" ${PARALLEL_JOBS:+--jobs="$PARALLEL_JOBS"}
    [ -f build/Release/uwrap.node ] || die "node-gyp did not produce build/Release/uwrap.node"
}

# install: S, D (destination root), LIBDIR (/usr/lib), SYSCONFDIR (/etc),
# UNITDIR (systemd system unit dir), DBUS_POLICYDIR (/usr/share/dbus-1/system.d),
# FILES_DIR (where the unit and the policy were unpacked), CONFIG (the JSON
# installed as /etc/virtual-media/config.json).
do_install() {
    need S D LIBDIR SYSCONFDIR UNITDIR DBUS_POLICYDIR FILES_DIR CONFIG
    app="$D$LIBDIR/virtual-media"
    [ -f "$S/dist/virtual-mediad.mjs" ] || die "no dist/virtual-mediad.mjs in $S: daemon bundle not built yet"
    [ -f "$S/node_modules/usocket/build/Release/uwrap.node" ] || die "usocket addon not built: run compile first"
    [ -f "$CONFIG" ] || die "config $CONFIG does not exist"

    install -d "$app" "$app/node_modules"
    install -m 0644 "$S/dist/virtual-mediad.mjs" "$app/virtual-mediad.mjs"

    # Runtime modules the bundle loads with require(): usocket and what its
    # index.js needs. nan is headers for the build only.
    for module in "$S"/node_modules/*; do
        name=$(basename "$module")
        case "$name" in
            nan|.bin) continue ;;
        esac
        cp -R --no-preserve=ownership "$module" "$app/node_modules/$name"
    done
    # Of the addon's build tree keep only the module itself.
    rm -rf "$app/node_modules/usocket/build" "$app/node_modules/usocket/src" \
        "$app/node_modules/usocket/binding.gyp" "$app/node_modules/usocket/.node-gyp-home"
    install -d "$app/node_modules/usocket/build/Release"
    install -m 0755 "$S/node_modules/usocket/build/Release/uwrap.node" \
        "$app/node_modules/usocket/build/Release/uwrap.node"

    install -d "$D$SYSCONFDIR/virtual-media"
    install -m 0644 "$CONFIG" "$D$SYSCONFDIR/virtual-media/config.json"

    install -d "$D$UNITDIR"
    install -m 0644 "$FILES_DIR/xyz.openbmc_project.VirtualMedia.service" "$D$UNITDIR/"

    install -d "$D$DBUS_POLICYDIR"
    install -m 0644 "$FILES_DIR/xyz.openbmc_project.VirtualMedia.conf" "$D$DBUS_POLICYDIR/"
}

case "${1:-}" in
    compile) do_compile ;;
    install) do_install ;;
    *) die "usage: virtual-media-build.sh compile|install" ;;
esac
