// The daemon's configuration after validation: every field filled in, every
// path absolute. See daemon/README.md for the JSON keys and their defaults.

export const enum Mode {
  Proxy = 0,
  Legacy = 1,
}

export interface MountPointConfig {
  /** The key in MountPoints; last element of the D-Bus object path. */
  readonly id: string;
  readonly endpointId: string;
  readonly mode: Mode;
  /** Device name without /dev, e.g. `nbd0`. */
  readonly nbdDevice: string;
  readonly unixSocket: string;
  /** Seconds; nbd-client's -t and the base of the watchdog. */
  readonly timeout: number;
  readonly blockSize: number;
}

export interface GadgetIdentity {
  readonly vendorId: number;
  readonly productId: number;
  readonly bcdDevice: number;
  readonly manufacturer: string;
  readonly product: string;
  readonly serialNumberPrefix: string;
}

export interface Roots {
  /** Where sysfs is (`/sys`): block devices and UDCs are read below it. */
  readonly sys: string;
  /** Where configfs is (`/sys/kernel/config`). */
  readonly configfs: string;
  /** Where device nodes are (`/dev`). */
  readonly dev: string;
  /** The daemon's private runtime directory (0700): pid files, credential files, CIFS mount points, legacy sockets. */
  readonly run: string;
  /**
   * Where proxy-mode sockets go unless a mount point names its own: bmcweb
   * binds them, so the directory is bmcweb's to write (root:bmcweb 0770,
   * made by the layer's tmpfiles.d line), not the daemon's.
   */
  readonly proxySockets: string;
  /** The mount table to read at start-up for stale CIFS mounts. */
  readonly mountInfo: string;
}

export interface Commands {
  readonly nbdkit: string;
  readonly nbdClient: string;
  readonly mount: string;
  readonly umount: string;
}

export interface NbdkitTuning {
  /** Operator's nbdkit filters in front of the curl plugin, used verbatim; undefined = derived (media/https-streaming.ts). */
  readonly httpsFilters: readonly string[] | undefined;
  /** Their key=value parameters, with httpsFilters. */
  readonly httpsFilterParams: readonly string[] | undefined;
  /** Seconds nbdkit's curl plugin waits for one HTTP request. */
  readonly httpTimeout: number;
  /** The curl plugin's HTTP connection pool, where the installed nbdkit has one (`connections=`). */
  readonly httpConnections: number;
  /** Cap in MiB of nbdkit's cache per inserted HTTPS medium (tmpfs); 0 = no cache filter. */
  readonly cacheMiB: number;
}

/** Queue settings the daemon writes to /sys/block/nbdN/queue after attaching a legacy medium. */
export interface BlockDeviceTuning {
  /** read_ahead_kb: how far the kernel reads ahead of a sequential reader (the USB gadget reads the device buffered). */
  readonly readAheadKiB: number;
  /** max_sectors_kb: the largest request the kernel sends to the NBD server (the nbd driver's default is 128). */
  readonly maxRequestKiB: number;
}

export interface Config {
  /** Seconds without host I/O before a medium is ejected; 0 disables. */
  readonly inactivityTimeout: number;
  readonly mountPoints: readonly MountPointConfig[];
  /** PEM bundle of CAs that HTTPS image servers are verified against. */
  readonly tlsCaFile: string | undefined;
  /** Directory of hashed CA certificates (alternative or addition to tlsCaFile). */
  readonly tlsCaPath: string | undefined;
  /** The UDC to bind gadgets to; undefined = pick a free one from /sys/class/udc. */
  readonly udc: string | undefined;
  readonly gadget: GadgetIdentity;
  readonly roots: Roots;
  readonly commands: Commands;
  readonly nbdkit: NbdkitTuning;
  readonly blockDevice: BlockDeviceTuning;
}
