// A bound on a wait in a test: resolves with `p`, or fails naming `what`
// once `ms` passed, or as soon as `gone` settles (the other side died). A
// hang guard only: it never judges how long something took.
export async function within<T>(what: string, p: Promise<T>, ms: number, gone?: Promise<string>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  const died = gone?.then((why) => Promise.reject(new Error(`${what}: ${why}`))) ?? new Promise<never>(() => undefined);
  try {
    return await Promise.race([p, timeout, died]);
  } finally {
    clearTimeout(timer);
  }
}
