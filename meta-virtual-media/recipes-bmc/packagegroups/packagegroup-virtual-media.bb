SUMMARY = "Virtual media for OpenBMC: the daemon and the tools it drives"
DESCRIPTION = "Everything an image needs for Redfish virtual media once the \
distro has DISTRO_FEATURES 'virtual-media': the daemon (which pulls in \
nodejs, nbdkit and nbd-client)."

inherit packagegroup features_check
REQUIRED_DISTRO_FEATURES = "virtual-media systemd"

RDEPENDS:${PN} = " \
    virtual-media \
    nbdkit \
    nbd-client \
"
