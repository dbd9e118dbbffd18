// Defaults for everything the JSON may leave out. Intel's deployed configs
// omit most fields; these keep such files working.
import type { BlockDeviceTuning, Commands, GadgetIdentity, NbdkitTuning, Roots } from './types.js';

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

// HTTPS streaming (media/https-streaming.ts, daemon/README.md "Streaming
// over a WAN"): no nbdkit cache by default (its lock serialises every read
// and its blocks would make small random reads cost whole blocks; the
// kernel's page cache of /dev/nbdN already serves re-reads), a small HTTP
// connection pool where nbdkit has one, and large kernel requests.
export const DEFAULT_NBDKIT: NbdkitTuning = {
  httpsFilters: undefined,
  httpsFilterParams: undefined,
  httpTimeout: 30,
  httpConnections: 4,
  cacheMiB: 0,
};

// 8 MiB windows and requests: over a 100 ms round trip at 100 Mbit/s one
// request then carries 0.67 s of data per 0.1 s of waiting (about 87 % of the
// link with a one-request-at-a-time server). A request must still arrive
// within nbd-client's Timeout (30 s): 8 MiB needs at least ~2.3 Mbit/s.
export const DEFAULT_BLOCK_DEVICE: BlockDeviceTuning = {
  readAheadKiB: 8192,
  maxRequestKiB: 8192,
};

export const DEFAULT_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';
