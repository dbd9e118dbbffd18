// Start-up (parsing the bundle, building the D-Bus objects, the first bus
// round trips) leaves a few MiB of garbage in a grown young generation. An
// idle daemon would keep those pages resident until V8's memory reducer runs,
// about ten seconds later; one full collection right after start-up returns
// them at once. --expose-gc set at run time only makes `gc` reachable; it
// changes nothing else in V8.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export function releaseStartupGarbage(): void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (options?: { type: 'major' }) => void;
    gc();
  } catch {
    // Not fatal: the memory reducer does the same a little later.
  }
}
