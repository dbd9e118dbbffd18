# Redfish VirtualMedia backend for bmcweb, only when the distro opts in
# (DISTRO_FEATURES "virtual-media"); see bmcweb-virtual-media.inc.
require ${@bb.utils.contains('DISTRO_FEATURES', 'virtual-media', 'bmcweb-virtual-media.inc', '', d)}
