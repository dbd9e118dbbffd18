// The errno values the Completion signal carries. Linux numbers, fixed here
// because callers (bmcweb, busctl users) compare them with <errno.h>.
export const Errno = {
  OK: 0,
  EPERM: 1,
  EIO: 5,
  EBUSY: 16,
  EINVAL: 22,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  ECANCELED: 125,
} as const;

/** A failure that knows which errno the Completion signal should report. */
export class OperationError extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
    this.name = 'OperationError';
  }
}

/** The errno to report for any error thrown by a mount step. */
export function errnoOf(e: unknown): number {
  if (e instanceof OperationError) return e.errno;
  return Errno.EIO;
}
