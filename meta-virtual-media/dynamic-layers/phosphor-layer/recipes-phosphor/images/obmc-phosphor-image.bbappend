# With DISTRO_FEATURES "virtual-media" the OpenBMC image gets the whole
# virtual media stack; otherwise this append does nothing.
require ${@bb.utils.contains('DISTRO_FEATURES', 'virtual-media', 'obmc-phosphor-image-virtual-media.inc', '', d)}
