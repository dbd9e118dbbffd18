// The MountPoints map: the design's fields plus the variants deployed Intel
// configs use (bare `nbd0` device names, missing Timeout/BlockSize/UnixSocket,
// `EndPointId` spelled as in the PDI YAML).
import { posix } from 'node:path';
import { ALLOWED_BLOCK_SIZES, DEFAULT_BLOCK_SIZE, DEFAULT_NBD_TIMEOUT } from './defaults.js';
import { describe, join, type FieldReader } from './reader.js';
import { Mode, type MountPointConfig, type Roots } from './types.js';

const MOUNT_POINT_KEYS = ['EndpointId', 'EndPointId', 'Mode', 'NBDDevice', 'UnixSocket', 'Timeout', 'BlockSize'];
// The id ends a D-Bus object path and names a configfs gadget: keep it to path-element characters.
const ID = /^[A-Za-z0-9_]{1,64}$/;
const NBD_DEVICE = /^(?:\/dev\/)?(nbd[0-9]{1,3})$/;

export function parseMountPoints(r: FieldReader, raw: unknown, roots: Pick<Roots, 'run' | 'proxySockets'>): MountPointConfig[] {
  if (raw === undefined) {
    r.problem('MountPoints', 'is required (an object mapping mount point ids to their settings)');
    return [];
  }
  if (!r.isObject(raw)) {
    r.problem('MountPoints', `must be an object, got ${describe(raw)}`);
    return [];
  }
  const entries = Object.entries(raw);
  if (entries.length === 0) r.problem('MountPoints', 'must define at least one mount point');
  const out: MountPointConfig[] = [];
  for (const [id, value] of entries) {
    const path = join('MountPoints', id);
    if (!ID.test(id)) r.problem(path, 'the id must be 1-64 characters of A-Z, a-z, 0-9 and _ (it becomes a D-Bus path element)');
    if (!r.isObject(value)) {
      r.problem(path, `must be an object, got ${describe(value)}`);
      continue;
    }
    const mp = parseOne(r, id, value, path, roots);
    if (mp) out.push(mp);
  }
  reportDuplicates(r, out, (m) => m.nbdDevice, 'NBDDevice');
  reportDuplicates(r, out, (m) => m.unixSocket, 'UnixSocket');
  return out;
}

function parseOne(r: FieldReader, id: string, obj: Record<string, unknown>, path: string, roots: Pick<Roots, 'run' | 'proxySockets'>): MountPointConfig | undefined {
  r.onlyKnownKeys(obj, MOUNT_POINT_KEYS, path);
  const mode = obj.Mode;
  if (mode === undefined) r.problem(`${path}.Mode`, 'is required: 0 (proxy) or 1 (legacy)');
  else if (mode !== 0 && mode !== 1) r.problem(`${path}.Mode`, `must be 0 (proxy) or 1 (legacy), got ${describe(mode)}`);

  const device = obj.NBDDevice;
  const match = typeof device === 'string' ? NBD_DEVICE.exec(device) : null;
  if (device === undefined) r.problem(`${path}.NBDDevice`, 'is required, e.g. "nbd0" or "/dev/nbd0"');
  else if (!match) r.problem(`${path}.NBDDevice`, `must be nbdN or /dev/nbdN, got ${describe(device)}`);

  const endpoint = r.string(obj, 'EndpointId', path, '');
  const pdiEndpoint = r.string(obj, 'EndPointId', path, endpoint);
  if (obj.EndpointId !== undefined && obj.EndPointId !== undefined && endpoint !== pdiEndpoint) {
    r.problem(`${path}.EndPointId`, 'differs from EndpointId (give one of them)');
  }
  const endpointId = endpoint || pdiEndpoint;
  if (mode === Mode.Proxy && endpointId === '') r.problem(`${path}.EndpointId`, 'is required for a proxy mount point (bmcweb serves /nbd/<id> from it)');

  const nbdDevice = match ? match[1]! : 'nbd0';
  const before = r.problems.length;
  // bmcweb binds proxy sockets, so they default to its directory; nbdkit's
  // legacy sockets stay in the daemon's private one.
  const socketDir = mode === Mode.Proxy ? roots.proxySockets : roots.run;
  const given = r.absolutePath(obj, 'UnixSocket', path, posix.join(socketDir, `${nbdDevice}.sock`));
  // An invalid socket is reported once, not again as a clash of its fallback with another mount point.
  const unixSocket = r.problems.length > before ? '' : given;
  // sun_path holds 108 bytes including the NUL.
  if (Buffer.byteLength(unixSocket) > 107) r.problem(`${path}.UnixSocket`, 'is longer than a unix socket path may be (107 bytes)');
  const timeout = r.integer(obj, 'Timeout', path, 1, 3600, DEFAULT_NBD_TIMEOUT);
  const blockSize = r.integer(obj, 'BlockSize', path, 512, 4096, DEFAULT_BLOCK_SIZE);
  if (!(ALLOWED_BLOCK_SIZES as readonly number[]).includes(blockSize)) {
    r.problem(`${path}.BlockSize`, `must be one of ${ALLOWED_BLOCK_SIZES.join(', ')} (what nbd-client accepts), got ${blockSize}`);
  }
  if (mode !== 0 && mode !== 1) return undefined;
  return { id, endpointId, mode: mode as Mode, nbdDevice, unixSocket, timeout, blockSize };
}

function reportDuplicates(r: FieldReader, mps: MountPointConfig[], key: (m: MountPointConfig) => string, field: string): void {
  const seen = new Map<string, string>();
  for (const mp of mps) {
    const k = key(mp);
    if (k === '') continue;
    const first = seen.get(k);
    if (first !== undefined) r.problem(join(join('MountPoints', mp.id), field), `${JSON.stringify(k)} is already used by ${join('MountPoints', first)}`);
    else seen.set(k, mp.id);
  }
}
