SUMMARY = "Virtual media daemon for OpenBMC"
DESCRIPTION = "Owns xyz.openbmc_project.VirtualMedia on the system bus. \
bmcweb's Redfish InsertMedia/EjectMedia (legacy mode: HTTPS and SMB images \
through nbdkit) and its /nbd/<id> websocket (proxy mode, through nbd-client) \
end up here; the image is shown to the host as a USB mass-storage device."
SECTION = "network"

# The project is Apache-2.0, the unix-fd addon next to the bundle included
# (it is ours); inside the bundle are dbus-next and its dependencies
# (virtual-media-licenses.inc).
require virtual-media-licenses.inc
LICENSE = "Apache-2.0 & MIT & BlueOak-1.0.0"
LIC_FILES_CHKSUM = " \
    file://LICENSE;md5=3b83ef96387f14655fc854ddc3c6bd57 \
    ${VIRTUAL_MEDIA_BUNDLED_LIC_FILES} \
"

require virtual-media-release.inc

SRC_URI = " \
    ${VIRTUAL_MEDIA_RELEASE_URI} \
    file://virtual-media-build.sh \
    file://xyz.openbmc_project.VirtualMedia.service \
    file://xyz.openbmc_project.VirtualMedia.conf \
"

# Nothing is built unless the distro opts in.
inherit features_check systemd python3native
REQUIRED_DISTRO_FEATURES = "virtual-media systemd"

# nodejs-native brings node, node-gyp (inside npm) and the Node headers
# (node_api.h) the unix-fd addon is compiled against; the target's nodejs
# runs it. The addon is plain C: only the target C compiler is needed.
DEPENDS = "nodejs-native"

# node-gyp's name for the target CPU.
VIRTUAL_MEDIA_NODE_ARCH = "${TARGET_ARCH}"
VIRTUAL_MEDIA_NODE_ARCH:aarch64 = "arm64"
VIRTUAL_MEDIA_NODE_ARCH:x86-64 = "x64"
VIRTUAL_MEDIA_NODE_GYP = "${STAGING_LIBDIR_NATIVE}/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"

# The JSON installed as /etc/virtual-media/config.json. A machine layer
# overrides it with its own file, e.g. in virtual-media_%.bbappend:
#   SRC_URI:append:mymachine = " file://virtual-media.json"
#   VIRTUAL_MEDIA_CONFIG:mymachine = "${UNPACKDIR}/virtual-media.json"
VIRTUAL_MEDIA_CONFIG ?= "${S}/config/virtual-media.json"

# Legacy SMB images: the daemon runs "mount -t cifs ... -o credentials=FILE",
# which needs util-linux's mount (it hands cifs to /sbin/mount.cifs; busybox
# mount may not) and mount.cifs from cifs-utils, plus the kernel CIFS client
# (built in by virtual-media.cfg on ASPEED, a module elsewhere). Without
# cifs, smb:// images fail to mount and nothing of the above is installed.
PACKAGECONFIG ??= "cifs"
PACKAGECONFIG[cifs] = ",,,cifs-utils util-linux-mount,kernel-module-cifs"

do_configure[noexec] = "1"

do_compile() {
    env S="${S}" NODE="${STAGING_BINDIR_NATIVE}/node" NODE_GYP="${VIRTUAL_MEDIA_NODE_GYP}" NODE_DIR="${STAGING_DIR_NATIVE}${prefix_native}" NODE_ARCH="${VIRTUAL_MEDIA_NODE_ARCH}" sh ${UNPACKDIR}/virtual-media-build.sh compile
}

do_install() {
    env S="${S}" D="${D}" LIBDIR="${nonarch_libdir}" SYSCONFDIR="${sysconfdir}" UNITDIR="${systemd_system_unitdir}" DBUS_POLICYDIR="${datadir}/dbus-1/system.d" FILES_DIR="${UNPACKDIR}" CONFIG="${VIRTUAL_MEDIA_CONFIG}" sh ${UNPACKDIR}/virtual-media-build.sh install
}

SYSTEMD_SERVICE:${PN} = "xyz.openbmc_project.VirtualMedia.service"

FILES:${PN} += " \
    ${nonarch_libdir}/virtual-media \
    ${datadir}/dbus-1/system.d \
"
CONFFILES:${PN} = "${sysconfdir}/virtual-media/config.json"

RDEPENDS:${PN} = "nodejs nbdkit nbd-client"
