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
  /** nbdkit filters placed in front of the curl plugin, in order. */
  readonly httpsFilters: readonly string[];
  /** Extra key=value parameters for those filters (e.g. cache-max-size=32M). */
  readonly httpsFilterParams: readonly string[];
  /** Seconds nbdkit's curl plugin waits for one HTTP request. */
  readonly httpTimeout: number;
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
}
