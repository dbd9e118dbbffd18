// Everything a mount point needs from outside: configuration and seams.
import type { Config } from '../config/types.js';
import type { GadgetSeam } from '../seams/gadget.js';
import type { Logger } from '../util/logger.js';

export interface MountPointEnvironment {
  readonly config: Config;
  readonly gadget: GadgetSeam;
  readonly log: Logger;
  /** Warns once per daemon, not once per mount point and medium. */
  warnOnce(key: string, message: string): void;
}
