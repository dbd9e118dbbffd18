#!/bin/sh
# Build and install steps of the virtual-media recipe, kept out of the recipe
# so that the offline layer tests run exactly the same commands on the real
# release tarball without bitbake (test/layer/release-build.test.ts).
#
#   virtual-media-build.sh compile   build the unix-fd addon for the target
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
# NODE_ARCH (node-gyp --arch: arm, arm64, x64), CC (target C compiler; the
# addon is plain C on Node-API, so one build serves every Node version).
do_compile() {
    need S NODE NODE_GYP NODE_DIR NODE_ARCH CC
    addon="$S/node_modules/openbmc-dbus-unix-fd"
    [ -f "$addon/binding.gyp" ] || die "no unix-fd addon sources in $addon (is S the release's package/ directory?)"
    [ -f "$NODE_DIR/include/node/node_api.h" ] || die "no Node headers (node_api.h) under $NODE_DIR/include/node"
    # gyp's make backend links with $(LINK), which defaults to the host c++.
    LINK="${LINK:-$CC}"
    CXX="${CXX:-$CC}"
    export CC CXX LINK
    cd "$addon"
    # node-gyp keeps a headers cache under HOME even with --nodedir: keep it
    # inside the build tree.
    HOME="$addon/.node-gyp-home" "$NODE" "$NODE_GYP" rebuild \
        --release --nodedir="$NODE_DIR" --arch="$NODE_ARCH" ${PARALLEL_JOBS:+--jobs="$PARALLEL_JOBS"}
    [ -f build/Release/unix_fd.node ] || die "node-gyp did not produce build/Release/unix_fd.node"
}

# install: S, D (destination root), LIBDIR (/usr/lib), SYSCONFDIR (/etc),
# UNITDIR (systemd system unit dir), DBUS_POLICYDIR (/usr/share/dbus-1/system.d),
# FILES_DIR (where the unit and the policy were unpacked), CONFIG (the JSON
# installed as /etc/virtual-media/config.json).
do_install() {
    need S D LIBDIR SYSCONFDIR UNITDIR DBUS_POLICYDIR FILES_DIR CONFIG
    app="$D$LIBDIR/virtual-media"
    [ -f "$S/dist/virtual-mediad.mjs" ] || die "no dist/virtual-mediad.mjs in $S: daemon bundle not built yet"
    addon="$S/node_modules/openbmc-dbus-unix-fd"
    [ -f "$addon/build/Release/unix_fd.node" ] || die "unix-fd addon not built: run compile first"
    [ -f "$CONFIG" ] || die "config $CONFIG does not exist"

    install -d "$app" "$app/node_modules"
    install -m 0644 "$S/dist/virtual-mediad.mjs" "$app/virtual-mediad.mjs"

    # The one module the bundle loads at run time: the addon, as a package
    # (the runtime loads build/Release/unix_fd.node from it). No sources, no objects.
    install -d "$app/node_modules/openbmc-dbus-unix-fd/build/Release"
    install -m 0644 "$addon/package.json" "$app/node_modules/openbmc-dbus-unix-fd/package.json"
    install -m 0755 "$addon/build/Release/unix_fd.node" \
        "$app/node_modules/openbmc-dbus-unix-fd/build/Release/unix_fd.node"

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
