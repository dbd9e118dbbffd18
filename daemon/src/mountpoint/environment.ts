// Everything a mount point needs from outside: configuration and seams.
import type { Config } from '../config/types.js';
import type { GadgetSeam } from '../seams/gadget.js';
import type { NbdkitFeatures } from '../seams/nbdkit-probe.js';
import type { Logger } from '../util/logger.js';

export interface MountPointEnvironment {
  readonly config: Config;
  readonly gadget: GadgetSeam;
  readonly log: Logger;
  /** What the installed nbdkit accepts, probed once in the background at start-up. */
  nbdkitFeatures(): Promise<NbdkitFeatures>;
  /** Warns once per daemon, not once per mount point and medium. */
  warnOnce(key: string, message: string): void;
}
