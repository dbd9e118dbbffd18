SUMMARY = "Typed client library for the OpenBMC virtual media D-Bus service"
DESCRIPTION = "ESM JavaScript and TypeScript declarations for talking to \
xyz.openbmc_project.VirtualMedia. Other Node services on the image import it \
as 'openbmc-virtual-media-client', the name and API of the npm package \
(same client/index.ts), bundled with its runtime and dbus-next into one file \
for the image."
SECTION = "devel"

# The project is Apache-2.0; dbus-next and its dependencies are bundled into
# dist/client/index.js (virtual-media-licenses.inc).
require virtual-media-licenses.inc
LICENSE = "Apache-2.0 & MIT & BlueOak-1.0.0"
LIC_FILES_CHKSUM = " \
    file://LICENSE;md5=3b83ef96387f14655fc854ddc3c6bd57 \
    ${VIRTUAL_MEDIA_BUNDLED_LIC_FILES} \
"

require virtual-media-release.inc

SRC_URI = "${VIRTUAL_MEDIA_RELEASE_URI}"

# Plain JavaScript and .d.ts files: the same package for every machine.
inherit allarch features_check
REQUIRED_DISTRO_FEATURES = "virtual-media"

do_configure[noexec] = "1"
do_compile[noexec] = "1"

# Installed as a regular Node package, so ESM resolution finds it from any
# service below /usr/lib (it walks up to /usr/lib/node_modules). The release
# tarball's dist/client/ is that package, package.json included, named like
# the npm package.
VIRTUAL_MEDIA_CLIENT_DIR = "${nonarch_libdir}/node_modules/openbmc-virtual-media-client"

do_install() {
    install -d ${D}${VIRTUAL_MEDIA_CLIENT_DIR}
    cp -R --no-preserve=ownership ${S}/dist/client/. ${D}${VIRTUAL_MEDIA_CLIENT_DIR}/
    install -m 0644 ${S}/LICENSE ${D}${VIRTUAL_MEDIA_CLIENT_DIR}/
}

FILES:${PN} = "${VIRTUAL_MEDIA_CLIENT_DIR}"

# Recipes that compile TypeScript against it (DEPENDS += "virtual-media-client")
# find it in their sysroot under the same path.
SYSROOT_DIRS += "${nonarch_libdir}/node_modules"

RDEPENDS:${PN} = "nodejs"
