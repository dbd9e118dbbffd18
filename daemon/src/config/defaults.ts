// Defaults for everything the JSON may leave out. Intel's deployed configs
// omit most fields; these keep such files working.
import type { Commands, GadgetIdentity, NbdkitTuning, Roots } from './types.js';

export const DEFAULT_INACTIVITY_TIMEOUT = 1800;
export const DEFAULT_NBD_TIMEOUT = 30;
export const DEFAULT_BLOCK_SIZE = 512;
export const ALLOWED_BLOCK_SIZES = [512, 1024, 2048, 4096] as const;

export const DEFAULT_ROOTS: Roots = {
  sys: '/sys',
  configfs: '/sys/kernel/config',
  dev: '/dev',
  run: '/run/virtual-media',
  proxySockets: '/run/virtual-media-proxy',
  mountInfo: '/proc/self/mountinfo',
};

export const DEFAULT_COMMANDS: Commands = {
  nbdkit: 'nbdkit',
  nbdClient: 'nbd-client',
  mount: 'mount',
  umount: 'umount',
};

// Linux Foundation "Multifunction Composite Gadget", as the kernel docs use.
export const DEFAULT_GADGET: GadgetIdentity = {
  vendorId: 0x1d6b,
  productId: 0x0104,
  bcdDevice: 0x0100,
  manufacturer: 'OpenBMC',
  product: 'Virtual Media Device',
  serialNumberPrefix: 'OBMC',
};

// Over a slow link every host read costs an HTTP round trip. The cache
// filter, caching reads in 1 MiB blocks, turns the host's 128 KiB sequential
// reads into one range request per MiB and serves re-reads (file system
// metadata, installers seeking back) locally, within 32 MiB of $TMPDIR per
// inserted medium (tmpfs, i.e. RAM, on an OpenBMC image: keep it modest).
// readahead adds prefetching where the curl plugin runs requests in parallel
// (newer nbdkit); with nbdkit 1.32's serialised curl plugin it only logs that
// it cannot help. Measured in test/daemon/nbdkit-filters.test.ts.
export const DEFAULT_NBDKIT: NbdkitTuning = {
  httpsFilters: ['readahead', 'cache'],
  httpsFilterParams: ['cache-on-read=true', 'cache-min-block-size=1M', 'cache-max-size=32M'],
  httpTimeout: 30,
};

export const DEFAULT_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';
