// (4) Legacy SMB, read-write: smbd on loopback in the guest (root file system
// read-only: every state directory of samba under /run), a share holding a
// random image; the daemon mounts it with the kernel CIFS client (seal,
// SMB 3.1.1) and serves it with nbdkit's file plugin; the host writes to the
// USB disk and the write lands in the share's file.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { secretPipe, type Image } from './fixtures.js';
import { run, sha256, sleep, waitClean, waitFor, waitForUsbDevice } from './kernel-view.js';
import { Medium } from './media-client.js';
import type { Context, Measures } from './scenarios.js';

const SAMBA = '/run/samba-e2e';
export const SMB_USER = 'vmuser';
export const SMB_PASSWORD = 'smb-e2e Passw0rd';

export function smbConf(shareDir: string): string {
  const dir = (d: string) => join(SAMBA, d);
  return `[global]
  server role = standalone server
  workgroup = WORKGROUP
  interfaces = lo
  bind interfaces only = yes
  smb ports = 445
  disable netbios = yes
  server min protocol = SMB3
  server smb encrypt = desired
  pid directory = ${dir('pid')}
  lock directory = ${dir('lock')}
  state directory = ${dir('state')}
  cache directory = ${dir('cache')}
  private dir = ${dir('private')}
  ncalrpc dir = ${dir('ncalrpc')}
  binddns dir = ${dir('bind-dns')}
  passdb backend = tdbsam:${dir('private')}/passdb.tdb
  log file = ${dir('log')}/log.%m
  log level = 1
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  # The read-only root has no user for the SMB name: map it to root.
  username map = ${dir('users.map')}

[images]
  path = ${shareDir}
  read only = no
  valid users = root
  force user = root
`;
}

export async function startSamba(shareDir: string): Promise<ChildProcess> {
  for (const d of ['pid', 'lock', 'state', 'cache', 'private', 'ncalrpc', 'bind-dns', 'log']) mkdirSync(join(SAMBA, d), { recursive: true, mode: 0o755 });
  const conf = join(SAMBA, 'smb.conf');
  writeFileSync(conf, smbConf(shareDir));
  writeFileSync(join(SAMBA, 'users.map'), `root = ${SMB_USER}\n`);
  // smbpasswd -s reads the new password twice from stdin.
  await new Promise<void>((resolve, reject) => {
    const p = spawn('smbpasswd', ['-c', conf, '-s', '-a', 'root'], { stdio: ['pipe', 'inherit', 'inherit'] });
    p.stdin.end(`${SMB_PASSWORD}\n${SMB_PASSWORD}\n`);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`smbpasswd -a failed (${code})`))));
    p.on('error', reject);
  });
  // Its own session (detached) and no group of its own (--no-process-group): smbd
  // signals its whole group when it stops, which must not be ours.
  const smbd = spawn('smbd', ['--foreground', '--no-process-group', '--debug-stdout', '-s', conf], { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  await waitFor('smbd to listen on port 445', 30_000, () => {
    if (smbd.exitCode !== null) throw new Error(`smbd exited (${smbd.exitCode})`);
    // 0100007F:01BD = 127.0.0.1:445 in state 0A (LISTEN)
    return readFileSync('/proc/net/tcp', 'utf8').split('\n').some((l) => / 0100007F:01BD .* 0A /.test(l) || /:01BD 00000000:0000 0A/.test(l));
  });
  return smbd;
}

/** CIFS mounts in the daemon's mount namespace (the unit's sandbox gives it one of its own). */
async function cifsMounts(c: Context): Promise<string[]> {
  return readFileSync(`/proc/${await c.daemon.pid()}/mountinfo`, 'utf8').split('\n').filter((l) => / - cifs /.test(l));
}

export async function smb(c: Context, work: string): Promise<Measures> {
  const shareDir = join(work, 'smb-share');
  mkdirSync(shareDir, { recursive: true });
  const image: Image = { ...c.disk, name: 'rw.img', path: join(shareDir, 'rw.img') };
  copyFileSync(c.disk.path, image.path);
  const smbd = await startSamba(shareDir);
  const m = await Medium.open(c.connection, 'Legacy', c.legacy.id);
  try {
    const socket = await m.mountPoint.get('Socket');
    const fd = await secretPipe(work, SMB_USER, SMB_PASSWORD);
    const t0 = Date.now();
    try {
      await m.mountLegacy('smb://127.0.0.1/images/rw.img', true, fd);
    } finally {
      closeSync(fd);
    }
    const mountToCompletionMs = await m.expectCompletion('SMB Mount', t0, 90_000);
    const mounts = await cifsMounts(c);
    if (mounts.length !== 1) throw new Error(`expected one cifs mount in the daemon's namespace, found ${mounts.length}`);
    // mountinfo's super options: what the kernel negotiated (vers=3.1.1, seal).
    const cifsOptions = mounts[0]!.split(' - cifs ')[1]?.split(' ')[1] ?? '';
    if (!/(^|,)seal(,|$)/.test(cifsOptions)) throw new Error(`the CIFS mount is not sealed (encrypted): ${cifsOptions}`);
    const cifsVersion = /(?:^|,)vers=([\d.]+)/.exec(cifsOptions)?.[1];
    if ((await m.mountPoint.get('WriteProtected')) !== false) throw new Error('WriteProtected is true for a read-write SMB mount');
    const disk = await waitForUsbDevice('sd');
    if (readFileSync(`/sys/block/${disk.name}/ro`, 'utf8').trim() !== '0') throw new Error(`/dev/${disk.name} is read-only`);
    const got = await sha256(`/dev/${disk.name}`);
    if (got !== c.disk.sha256) throw new Error(`sha256 over SMB ${got} != image ${c.disk.sha256}`);
    const payload = join(work, 'smb-payload');
    writeFileSync(payload, randomBytes(1 << 20));
    const writesBefore = await m.stats.get('WriteIO');
    await run('dd', [`if=${payload}`, `of=/dev/${disk.name}`, 'bs=64k', 'oflag=direct', 'conv=fsync', 'status=none']);
    await waitFor('Stats.WriteIO to grow after the write', 10_000, async () => (await m.stats.get('WriteIO')) > writesBefore, 250);
    const t1 = Date.now();
    await m.unmount();
    const unmountMs = await m.expectCompletion('SMB Unmount', t1, 60_000);
    await waitClean(c.legacy.nbd, socket);
    await waitFor('the cifs mount to be gone', 20_000, async () => (await cifsMounts(c)).length === 0);
    const head = readFileSync(image.path).subarray(0, 1 << 20);
    if (!head.equals(readFileSync(payload))) throw new Error('the write through the USB disk did not reach the file on the share');
    return { mountToCompletionMs, unmountMs, cifsVersion };
  } finally {
    await m.close();
    smbd.kill('SIGTERM');
    await sleep(200);
  }
}
