// Seam: what the installed nbdkit can do, learned by asking it, never from
// its version number. The image ships nbdkit 1.47 (OpenBMC's
// meta-networking), Debian 1.32, and which curl parameters and cache-filter
// parameters exist depends on the version and even on the build (the cache
// filter's size cap needs hole punching at build time).
//
// Each question is one `nbdkit ... --dump-plugin` run: nbdkit hands every
// key=value to the filters and the plugin's config callbacks *before* it
// dumps and exits, so an unknown parameter or a missing filter makes it
// exit 1 ("unknown parameter 'connections'"), a known one exit 0. Nothing
// connects anywhere and nothing is served; each run takes a few tens of ms
// and they run side by side.
import { runToCompletion, type Exit } from '../process/child.js';
import type { Logger } from '../util/logger.js';

export interface NbdkitFeatures {
  /** `version=` of the curl plugin's dump (nbdkit's own version), or undefined when nbdkit could not be asked. */
  readonly version: string | undefined;
  /** The curl plugin's thread model: `parallel` (nbdkit >= 1.36: requests in parallel over a pool of HTTP connections) or `serialize_requests` (one at a time). */
  readonly curlThreadModel: string | undefined;
  /** curl plugin `connections=` (size of its HTTP connection pool, nbdkit >= 1.34). */
  readonly curlConnections: boolean;
  /** The cache filter with `cache-on-read=true`. */
  readonly cacheFilter: boolean;
  /** cache filter `cache-min-block-size=` (nbdkit >= 1.20). */
  readonly cacheMinBlockSize: boolean;
  /** cache filter `cache-max-size=` (only in builds with hole punching). */
  readonly cacheMaxSize: boolean;
}

/** Nothing known: every optional parameter left out (nbdkit missing, or not answering probes). */
export const NO_FEATURES: NbdkitFeatures = {
  version: undefined,
  curlThreadModel: undefined,
  curlConnections: false,
  cacheFilter: false,
  cacheMinBlockSize: false,
  cacheMaxSize: false,
};

/** What one probe run said. */
export interface ProbeAnswer {
  readonly accepted: boolean;
  readonly output: string;
}

/** The questions, by name: the arguments after the nbdkit command. */
export const PROBES = {
  curl: ['--dump-plugin', 'curl'],
  curlConnections: ['--dump-plugin', 'curl', 'url=https://probe.invalid/', 'connections=2'],
  cacheFilter: ['--dump-plugin', '--filter=cache', 'null', 'cache-on-read=true'],
  cacheMinBlockSize: ['--dump-plugin', '--filter=cache', 'null', 'cache-on-read=true', 'cache-min-block-size=64K'],
  cacheMaxSize: ['--dump-plugin', '--filter=cache', 'null', 'cache-on-read=true', 'cache-max-size=1M'],
} as const satisfies Record<string, readonly string[]>;

export type ProbeName = keyof typeof PROBES;
export type ProbeAnswers = Readonly<Record<ProbeName, ProbeAnswer>>;

/** `key=value` lines of a dump; other lines (errors, warnings) ignored. */
export function parseDump(output: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^([a-z_][a-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m && !fields.has(m[1]!)) fields.set(m[1]!, m[2]!);
  }
  return fields;
}

/** Features from the answers of the probes (pure: unit-tested on captured answers of several nbdkit versions). */
export function featuresFrom(answers: ProbeAnswers): NbdkitFeatures {
  const curl = answers.curl.accepted ? parseDump(answers.curl.output) : new Map<string, string>();
  const cacheFilter = answers.cacheFilter.accepted;
  return {
    version: curl.get('version'),
    curlThreadModel: curl.get('thread_model'),
    curlConnections: answers.curl.accepted && answers.curlConnections.accepted,
    cacheFilter,
    cacheMinBlockSize: cacheFilter && answers.cacheMinBlockSize.accepted,
    cacheMaxSize: cacheFilter && answers.cacheMaxSize.accepted,
  };
}

/** Runs the probes side by side; a probe that cannot run or hangs counts as "not accepted". */
export async function probeNbdkit(command: string, log: Logger, timeoutMs = 30_000, signal?: AbortSignal): Promise<NbdkitFeatures> {
  const ask = async (name: ProbeName): Promise<[ProbeName, ProbeAnswer]> => {
    const lines: string[] = [];
    const exit: Exit = await runToCompletion(command, PROBES[name], { label: `nbdkit probe ${name}`, log, onLine: (l) => lines.push(l) }, timeoutMs, signal);
    return [name, { accepted: exit.code === 0, output: lines.join('\n') }];
  };
  const answers = Object.fromEntries(await Promise.all((Object.keys(PROBES) as ProbeName[]).map(ask))) as ProbeAnswers;
  const features = featuresFrom(answers);
  if (!answers.curl.accepted) log.warning(`nbdkit probe: ${command} --dump-plugin curl failed; HTTPS images will use no optional nbdkit parameters`);
  return features;
}

export function describeFeatures(f: NbdkitFeatures): string {
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  return (
    `nbdkit ${f.version ?? 'unknown'}: curl thread model ${f.curlThreadModel ?? 'unknown'}, connections= ${yes(f.curlConnections)}; ` +
    `cache filter ${yes(f.cacheFilter)} (cache-min-block-size ${yes(f.cacheMinBlockSize)}, cache-max-size ${yes(f.cacheMaxSize)})`
  );
}
