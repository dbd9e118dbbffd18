// Inserting a medium, step by step: NBD server (legacy only), nbd-client,
// wait for the device to have a size, choose disk or CD-ROM, build and bind
// the gadget. Each step records what it acquired in the session, so the
// caller can tear down whatever was done when a step fails or the watchdog
// fires.
import { accessSync, constants } from 'node:fs';
import { posix } from 'node:path';
import { isIso9660, isReadOnlyDevice, setQueueLimits, sizeSectors } from '../seams/block-device.js';
import { cifsTarget, mountShare } from '../seams/cifs.js';
import { attach, devicePath } from '../seams/nbd-client.js';
import { startFile, startHttps, type NbdkitCommon } from '../seams/nbdkit.js';
import { httpsStreaming, type HttpsStreaming } from '../media/https-streaming.js';
import { chooseUdc } from '../seams/udc.js';
import { pollUntil } from '../util/abortable.js';
import { Errno, OperationError } from '../util/errno.js';
import { Mode } from '../config/types.js';
import type { MountRequest } from './request.js';
import { cifsOptions, type Session } from './session.js';

// The mass-storage function emulates a CD-ROM only for media of at least 300
// 2048-byte blocks (600 KiB); smaller ISO images are offered as disks.
const MIN_CDROM_SECTORS = (300 * 2048) / 512;

export interface Inserted {
  readonly writeProtected: boolean;
  readonly cdrom: boolean;
  readonly udc: string;
}

export async function activate(s: Session, req: MountRequest, signal: AbortSignal): Promise<Inserted> {
  const { env, mp } = s;
  const { config } = env;
  let readOnly = true;
  if (req.kind === 'legacy') readOnly = await startServer(s, req, signal);
  else if (mp.mode !== Mode.Proxy) throw new OperationError(Errno.EINVAL, 'not a proxy mount point');

  const nbd = { command: config.commands.nbdClient, devRoot: config.roots.dev, log: env.log };
  s.nbdClient = attach(nbd, mp.nbdDevice, mp.unixSocket, mp.blockSize, mp.timeout, readOnly && req.kind === 'legacy');
  const client = s.nbdClient;
  const sectors = await pollUntil(
    () => {
      const n = sizeSectors(config.roots.sys, mp.nbdDevice);
      if (n > 0) return n;
      if (!client.running) throw new OperationError(Errno.ECONNREFUSED, 'nbd-client exited before the device got a size');
      return undefined;
    },
    100,
    signal,
  );
  const dev = devicePath(config.roots.dev, mp.nbdDevice);
  // Before the gadget opens the device: a file takes the readahead window it has when opened.
  if (req.kind === 'legacy') queueLimits(s);
  const cdrom = sectors >= MIN_CDROM_SECTORS && (await isIso9660(dev));
  // A proxy medium is writable unless the browser's NBD server exports it
  // read-only (the kernel then marks the device ro); a legacy one as asked;
  // a CD-ROM never.
  const writeProtected = (req.kind === 'proxy' ? isReadOnlyDevice(config.roots.sys, mp.nbdDevice) : readOnly) || cdrom;
  signal.throwIfAborted();
  s.gadgetBuilt = true;
  s.readOnlyMedium = writeProtected;
  await env.gadget.create(mp.id, config.gadget, { devicePath: dev, readOnly: writeProtected, cdrom }, signal);
  const udc = await env.gadget.bindChosen(mp.id, (bound) => chooseUdc(config.roots.sys, config.udc, bound), signal);
  return { writeProtected, cdrom, udc };
}

/** Starts nbdkit for a legacy image; returns whether the medium is read-only. */
async function startServer(s: Session, req: Extract<MountRequest, { kind: 'legacy' }>, signal: AbortSignal): Promise<boolean> {
  const { env, mp } = s;
  const { config } = env;
  const pidFile = posix.join(config.roots.run, `${mp.id}.nbdkit.pid`);
  s.ownedFiles.push(mp.unixSocket, pidFile);
  const common = (readOnly: boolean): NbdkitCommon => ({ command: config.commands.nbdkit, socket: mp.unixSocket, pidFile, readOnly, log: env.log });
  const { image, credentials } = req;
  if (image.kind === 'https') {
    s.nbdkit = await startHttps(
      common(true),
      {
        url: image.url,
        user: credentials?.user,
        password: credentials?.password,
        caFile: config.tlsCaFile,
        caPath: config.tlsCaPath,
        streaming: await streamingFor(s),
      },
      signal,
    );
    return true;
  }
  // Recorded before mounting: a mount.cifs killed by the watchdog may still
  // leave the share mounted, and the teardown must look.
  s.cifsTarget = cifsTarget(config.roots.run, mp.id);
  await mountShare(cifsOptions(env), mp.id, { unc: image.unc, user: credentials?.user, password: credentials?.password, readWrite: req.readWrite }, signal);
  const file = posix.join(s.cifsTarget, image.file);
  let readOnly = !req.readWrite;
  if (!readOnly && !writable(file)) {
    env.log.warning(`${mp.id}: the share does not let us write ${image.file}: inserting it read-only`);
    readOnly = true;
  }
  s.nbdkit = await startFile(common(readOnly), file, signal);
  return readOnly;
}

/** nbdkit arguments for HTTPS from what the installed nbdkit accepts; what had to be left out is said once. */
async function streamingFor(s: Session): Promise<HttpsStreaming> {
  const { config } = s.env;
  const streaming = httpsStreaming(await s.env.nbdkitFeatures(), {
    cacheMiB: config.nbdkit.cacheMiB,
    httpConnections: config.nbdkit.httpConnections,
    httpTimeout: config.nbdkit.httpTimeout,
    maxRequestKiB: config.blockDevice.maxRequestKiB,
    explicit: config.nbdkit.httpsFilters ? { filters: config.nbdkit.httpsFilters, params: config.nbdkit.httpsFilterParams ?? [] } : undefined,
  });
  for (const note of streaming.notes) s.env.warnOnce(`streaming: ${note}`, note);
  return streaming;
}

/** Large sequential requests for legacy media (read_ahead_kb, max_sectors_kb); a sysfs that refuses is a warning, not a failed insertion. */
function queueLimits(s: Session): void {
  const { config } = s.env;
  const result = setQueueLimits(config.roots.sys, s.mp.nbdDevice, config.blockDevice);
  for (const problem of result.problems) s.env.warnOnce(`queue: ${problem}`, `${s.mp.nbdDevice}: ${problem}`);
  s.env.log.debug(`${s.mp.id}: ${s.mp.nbdDevice} read_ahead_kb ${result.readAheadKiB ?? '?'}, max_sectors_kb ${result.maxRequestKiB ?? '?'}`);
}

function writable(file: string): boolean {
  try {
    accessSync(file, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
