// The life of a mount point: ready -> activating -> active -> deactivating -> ready.
// Which request is allowed in which state follows Intel's daemon (the
// precedent bmcweb was written against): EPERM for a request that makes no
// sense now, EBUSY while an operation is running.
import { Errno } from '../util/errno.js';

export type State = 'ready' | 'activating' | 'active' | 'deactivating';

/** A request refused by its pre-check; errno says which D-Bus error to send. */
export class StateError extends Error {
  constructor(
    readonly errno: typeof Errno.EPERM | typeof Errno.EBUSY,
    message: string,
  ) {
    super(message);
  }
}

export function checkMountAllowed(state: State): void {
  if (state === 'active') throw new StateError(Errno.EPERM, 'a medium is already inserted');
  if (state !== 'ready') throw new StateError(Errno.EBUSY, `the mount point is busy (${state})`);
}

export function checkUnmountAllowed(state: State): void {
  if (state === 'ready') throw new StateError(Errno.EPERM, 'no medium is inserted');
  if (state !== 'active') throw new StateError(Errno.EBUSY, `the mount point is busy (${state})`);
}
