# Only when the distro opts in (DISTRO_FEATURES "virtual-media"): nbdkit with
# the curl plugin and nothing it does not need.
require ${@bb.utils.contains('DISTRO_FEATURES', 'virtual-media', 'nbdkit-virtual-media.inc', '', d)}
