// Waiting that a watchdog can cut short: every wait in a mount step takes the
// operation's AbortSignal, so a stuck step ends as soon as the watchdog fires.
import { Errno, OperationError } from './errno.js';

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new OperationError(Errno.ECANCELED, 'operation cancelled');
}

/** Polls `probe` every `intervalMs` until it returns a value other than undefined. */
export async function pollUntil<T>(probe: () => T | undefined | Promise<T | undefined>, intervalMs: number, signal?: AbortSignal): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(intervalMs, signal);
  }
}

/** Settles like `work`, or rejects with the abort reason as soon as `signal` aborts (the work itself goes on unobserved). */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A signal that aborts with `signal` or after `ms`, whichever comes first;
 * call `release()` when done. (Not AbortSignal.any with AbortSignal.timeout:
 * Node 20 holds the timeout signal only weakly there, and a garbage
 * collection in between silently removes the bound.)
 */
export function withDeadline(signal: AbortSignal | undefined, ms: number): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal!.reason);
  const timer = setTimeout(() => controller.abort(new OperationError(Errno.ETIMEDOUT, `no answer within ${ms} ms`)), ms);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    release() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}
