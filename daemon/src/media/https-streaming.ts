// How an HTTPS image is streamed: which nbdkit filters and parameters,
// built from what the installed nbdkit accepts (seams/nbdkit-probe.ts) and
// the configured budget. Pure, so it is unit-tested against the probe
// answers of several nbdkit versions. daemon/README.md ("Streaming over a
// WAN") has the measurements behind each choice.
//
// Over a link with a long round trip the data path is bound by round trips:
// nbdkit 1.32's curl plugin serves one request at a time, and nbdkit's cache
// filter holds one lock around every plugin read (also with 1.47's parallel
// curl plugin), so each NBD request costs a full HTTP round trip. What keeps
// the link busy is few, large requests: the nbd device's readahead window
// and its largest request (block-device.ts, set after attach) make the
// kernel ask for up to MaxRequestKiB at once, one HTTP range request each.
// Small random reads stay small (one round trip each), which a cache filter
// with large blocks would not allow.
import type { NbdkitFeatures } from '../seams/nbdkit-probe.js';

export interface StreamingSettings {
  /** Cap in MiB of nbdkit's cache (tmpfs: RAM on a BMC) per inserted HTTPS medium; 0 = no cache filter. */
  readonly cacheMiB: number;
  /** Size of the curl plugin's HTTP connection pool, where nbdkit has one. */
  readonly httpConnections: number;
  /** Seconds per HTTP request (curl `timeout`). */
  readonly httpTimeout: number;
  /** The largest request the nbd device sends (its max_sectors_kb), in KiB. */
  readonly maxRequestKiB: number;
  /** Operator's explicit filters and parameters: used verbatim, nothing derived. */
  readonly explicit: { readonly filters: readonly string[]; readonly params: readonly string[] } | undefined;
}

export interface HttpsStreaming {
  readonly filters: readonly string[];
  /** curl plugin parameters beyond url/protocols/TLS/credentials. */
  readonly pluginParams: readonly string[];
  readonly filterParams: readonly string[];
  /** Why a wanted setting was left out (logged once). */
  readonly notes: readonly string[];
}

// The cache filter starts reclaiming when the cache holds this share of
// cache-max-size (its default cache-high-threshold), and then frees two
// blocks before each read, which then adds up to one request plus one
// block for an unaligned head.
const RECLAIM_THRESHOLD = 0.95;

/** cache-max-size (MiB) for a hard cap: the filter may exceed its own setting by one block plus one request. */
export function cacheMaxSizeMiB(capMiB: number, blockMiB: number, requestMiB: number): number {
  return Math.floor((capMiB - blockMiB - requestMiB) / RECLAIM_THRESHOLD);
}

export function httpsStreaming(f: NbdkitFeatures, s: StreamingSettings): HttpsStreaming {
  const pluginParams = [`timeout=${s.httpTimeout}`];
  const notes: string[] = [];
  if (f.curlConnections) pluginParams.push(`connections=${s.httpConnections}`);
  if (s.explicit) return { filters: [...s.explicit.filters], pluginParams, filterParams: [...s.explicit.params], notes };
  if (s.cacheMiB === 0) return { filters: [], pluginParams, filterParams: [], notes };

  // A cache block as large as the largest request keeps the cap: the two
  // blocks freed before a read are at least what the read adds.
  // (nbdkit wants a power of two.)
  const blockMiB = 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(s.maxRequestKiB / 1024))));
  const maxSize = cacheMaxSizeMiB(s.cacheMiB, blockMiB, blockMiB);
  if (!f.cacheFilter) notes.push('no nbdkit cache filter: streaming without a cache');
  else if (!f.cacheMaxSize) notes.push('the nbdkit cache filter has no cache-max-size here (built without hole punching): without a cap it could fill the tmpfs, streaming without a cache');
  else if (!f.cacheMinBlockSize) notes.push('the nbdkit cache filter has no cache-min-block-size here: with small blocks its cap does not hold, streaming without a cache');
  else if (maxSize < 2 * blockMiB) notes.push(`Nbdkit.CacheMiB ${s.cacheMiB} is too small for ${blockMiB} MiB cache blocks (needs at least ${Math.ceil(2 * blockMiB * RECLAIM_THRESHOLD + 2 * blockMiB)}): streaming without a cache`);
  else {
    return {
      filters: ['cache'],
      pluginParams,
      filterParams: ['cache-on-read=true', `cache-min-block-size=${blockMiB}M`, `cache-max-size=${maxSize}M`],
      notes,
    };
  }
  return { filters: [], pluginParams, filterParams: [], notes };
}
