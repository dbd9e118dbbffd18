// Pre-check failures as the D-Bus errors the YAML declares.
import { InvalidArgument, NotAllowed } from '../../../bindings/xyz/openbmc_project/Common/error.js';
import { Busy } from '../../../bindings/xyz/openbmc_project/VirtualMedia/error.js';
import { StateError } from '../mountpoint/state.js';
import { Errno } from '../util/errno.js';

/** Runs a state pre-check, turning its StateError into NotAllowed (EPERM) or Busy (EBUSY). */
export function asDbusError(e: unknown): unknown {
  if (e instanceof StateError) return e.errno === Errno.EPERM ? new NotAllowed(e.message) : new Busy(e.message);
  return e;
}

export function invalidArgument(message: string): InvalidArgument {
  return new InvalidArgument(message);
}
