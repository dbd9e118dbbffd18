// The daemon's JavaScript heap after a full collection, read through Node's
// inspector. RSS alone cannot tell a leak from V8 sizing its heap (RSS went up
// and down by several MiB over the 300-cycle soak); the live heap after a
// full GC can. SIGUSR1 makes Node open its inspector on 127.0.0.1:9229, so
// the shipped unit and command line stay as they are. The inspector stays
// open afterwards: the soak takes its first reading before its start ledger,
// so what the inspector itself costs is in both.
import WebSocket from 'ws';
import { sleep } from '../kernel-view.js';

const INSPECTOR = 'http://127.0.0.1:9229';

export interface HeapReading {
  /** V8 heap in use after two full collections. */
  heapUsedKiB: number;
  heapTotalKiB: number;
  /** Memory of C++ objects bound to JS (Buffers' backing stores among them). */
  externalKiB: number;
  arrayBuffersKiB: number;
  rssKiB: number;
}

async function debuggerUrl(pid: number): Promise<string> {
  process.kill(pid, 'SIGUSR1');
  const deadline = Date.now() + 30_000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const targets = (await (await fetch(`${INSPECTOR}/json/list`)).json()) as Array<{ webSocketDebuggerUrl?: string }>;
      const url = targets[0]?.webSocketDebuggerUrl;
      if (url) return url;
      last = `no target in ${JSON.stringify(targets)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`daemon ${pid}: its inspector did not open on ${INSPECTOR} after SIGUSR1 (${last})`);
}

/** Sends inspector commands one after the other on one session; the last one's result. `onEvent` sees the events meanwhile. */
async function inspect(url: string, commands: Array<{ method: string; params?: object }>, onEvent?: (method: string, params: unknown) => void): Promise<unknown> {
  const ws = new WebSocket(url);
  // A heap snapshot of the daemon takes a while on an emulated CPU.
  const guard = setTimeout(() => ws.terminate(), 300_000);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let result: unknown;
    for (const [i, command] of commands.entries()) {
      result = await new Promise<unknown>((resolve, reject) => {
        const onMessage = (data: WebSocket.RawData) => {
          const m = JSON.parse(data.toString()) as { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message: string } };
          if (m.method) onEvent?.(m.method, m.params);
          if (m.id !== i + 1) return;
          ws.off('message', onMessage);
          if (m.error) reject(new Error(`${command.method}: ${m.error.message}`));
          else resolve(m.result);
        };
        ws.on('message', onMessage);
        ws.once('close', () => reject(new Error(`inspector closed during ${command.method}`)));
        ws.send(JSON.stringify({ id: i + 1, ...command }));
      });
    }
    return result;
  } finally {
    clearTimeout(guard);
    ws.close();
  }
}

export async function heapAfterGc(pid: number): Promise<HeapReading> {
  const url = await debuggerUrl(pid);
  const result = (await inspect(url, [
    { method: 'HeapProfiler.collectGarbage' },
    { method: 'HeapProfiler.collectGarbage' },
    { method: 'Runtime.evaluate', params: { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true } },
  ])) as { result?: { value?: string } };
  const usage = JSON.parse(result.result?.value ?? 'null') as NodeJS.MemoryUsage | null;
  if (!usage) throw new Error(`daemon ${pid}: no process.memoryUsage() from its inspector: ${JSON.stringify(result)}`);
  const kib = (n: number) => Math.round(n / 1024);
  return { heapUsedKiB: kib(usage.heapUsed), heapTotalKiB: kib(usage.heapTotal), externalKiB: kib(usage.external), arrayBuffersKiB: kib(usage.arrayBuffers), rssKiB: kib(usage.rss) };
}

/** Count and bytes of the live heap's objects per kind ("object:Map", "closure:onData", "string", ...). */
export type HeapCensus = Map<string, { count: number; bytes: number }>;

/** A heap snapshot of the daemon (after a full GC, as V8 takes them), summed up per kind of object. */
export async function heapCensus(pid: number): Promise<HeapCensus> {
  const url = await debuggerUrl(pid);
  const chunks: string[] = [];
  await inspect(url, [{ method: 'HeapProfiler.enable' }, { method: 'HeapProfiler.takeHeapSnapshot', params: { reportProgress: false } }], (method, params) => {
    if (method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push((params as { chunk: string }).chunk);
  });
  const snapshot = JSON.parse(chunks.join('')) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const fields = snapshot.snapshot.meta.node_fields;
  const [type, name, size] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const types = snapshot.snapshot.meta.node_types[0];
  const census: HeapCensus = new Map();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const t = types[snapshot.nodes[i + type]!]!;
    const key = t === 'object' || t === 'closure' || t === 'native' ? `${t}:${snapshot.strings[snapshot.nodes[i + name]!]}` : t;
    const entry = census.get(key) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += snapshot.nodes[i + size]!;
    census.set(key, entry);
  }
  return census;
}

/** The kinds that grew most between two censuses, by bytes. */
export function censusGrowth(before: HeapCensus, after: HeapCensus, top = 15): Array<{ kind: string; count: number; bytes: number }> {
  return [...after]
    .map(([kind, a]) => ({ kind, count: a.count - (before.get(kind)?.count ?? 0), bytes: a.bytes - (before.get(kind)?.bytes ?? 0) }))
    .filter((g) => g.bytes > 0 || g.count > 0)
    .sort((x, y) => y.bytes - x.bytes)
    .slice(0, top);
}
