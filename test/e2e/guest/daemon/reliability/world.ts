// The reliability scenarios' fixed world: four mount points on four UDCs
// (dummy_hcd num=4), one per kind of medium, the images they serve, an open
// and a slow HTTPS server (the slow one keeps a read in flight long enough to
// crash something in the middle of it), smbd, and the daemon's config.
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type * as rt from '../../../../../codegen/runtime/index.js';
import { DEFAULT_NBDKIT } from '../../../../../daemon/src/config/defaults.js';
import type { StaticServer } from '../../https-static-server.js';
import type { Image, SystemdDaemon } from '../fixtures.js';

export interface Slot {
  id: string;
  nbd: string;
}

export interface World {
  connection: rt.Connection;
  daemon: SystemdDaemon;
  work: string;
  /** Served over HTTPS from www/. */
  disk: Image;
  small: Image;
  iso: Image;
  /** The SMB share's directory and its images (copies: the concurrency scenario writes to rwSmall). */
  share: { dir: string; rw: Image; rwSmall: Image; small: Image };
  servers: { open: StaticServer; slow: StaticServer };
  /** smbd, restarted by the smbd-kill scenario. */
  smbd: { process: ChildProcess | undefined };
  slots: { proxy: Slot; cd: Slot; disk: Slot; smb: Slot };
}

/** Per-request delay of the slow server: a whole-disk read takes seconds, so a kill lands mid-read. */
export const SLOW_DELAY_MS = 600;
/**
 * curl's per-request timeout (Nbdkit.HttpTimeout) in this boot: twice the
 * daemon's default. Four insertions at once (TLS handshakes in nbdkit's curl
 * and in the driver's server) share the VM's one emulated CPU; on a loaded
 * host the default failed HTTPS insertions. The flaky-network bounds follow.
 */
export const HTTP_TIMEOUT_S = 2 * DEFAULT_NBDKIT.httpTimeout;

export const SLOTS = {
  proxy: { id: 'Slot_0', nbd: 'nbd0' },
  cd: { id: 'Slot_1', nbd: 'nbd1' },
  disk: { id: 'Slot_2', nbd: 'nbd2' },
  smb: { id: 'Slot_3', nbd: 'nbd3' },
} as const;

/**
 * Mount points' Timeout (nbd-client's, and the watchdog's Timeout + 5 s):
 * four insertions at once on the VM's one emulated CPU, on a loaded host,
 * took more than the default 30 + 5 s.
 */
export const MOUNT_TIMEOUT_S = 60;

export function daemonConfig(ca: string): object {
  const legacy = (nbd: string) => ({ Mode: 1, NBDDevice: `/dev/${nbd}`, Timeout: MOUNT_TIMEOUT_S, BlockSize: 512 });
  return {
    InactivityTimeout: 1800,
    Nbdkit: { HttpTimeout: HTTP_TIMEOUT_S },
    MountPoints: {
      [SLOTS.proxy.id]: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: `/dev/${SLOTS.proxy.nbd}`, Timeout: MOUNT_TIMEOUT_S, BlockSize: 512 },
      [SLOTS.cd.id]: legacy(SLOTS.cd.nbd),
      [SLOTS.disk.id]: legacy(SLOTS.disk.nbd),
      [SLOTS.smb.id]: legacy(SLOTS.smb.nbd),
    },
    TlsCaFile: ca,
  };
}

export const httpsUrl = (server: StaticServer, image: Image): string => `https://localhost:${server.port}/${image.name}`;
export const smbUrl = (image: Image): string => `smb://127.0.0.1/images/${image.name}`;

/** Copies an image into the share directory under another name. */
export function shareCopy(dir: string, image: Image, name: string): Image {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  copyFileSync(image.path, path);
  return { ...image, name, path };
}
