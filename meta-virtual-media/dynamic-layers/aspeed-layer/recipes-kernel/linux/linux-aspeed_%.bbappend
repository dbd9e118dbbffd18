# Virtual media kernel support, applied only when the distro opts in
# (DISTRO_FEATURES "virtual-media"). Without the feature the require
# expands to nothing, so adding this layer changes no task signature.
require ${@bb.utils.contains('DISTRO_FEATURES', 'virtual-media', 'linux-aspeed-virtual-media.inc', '', d)}
