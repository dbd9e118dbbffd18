// A temp tree standing in for the kernel's file systems (sys, configfs, dev)
// and the daemon's run directory. The daemon works on it through its seams'
// configurable roots; the fake nbd-client plays the nbd driver.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FAKE_NBD_CLIENT = fileURLToPath(new URL('../fixtures/fake-nbd-client.mjs', import.meta.url));
export const FAKE_MOUNT = fileURLToPath(new URL('../fixtures/fake-mount.mjs', import.meta.url));

export class FakeKernel {
  readonly root: string;
  constructor(readonly udcs: string[] = ['fake-udc.0', 'fake-udc.1'], devices = 8) {
    // Short: unix socket paths live below it.
    this.root = mkdtempSync(join(tmpdir(), 'vmd-'));
    for (const d of ['sys/class/udc', 'sys/kernel/config/usb_gadget', 'dev', 'run', 'smb']) mkdirSync(join(this.root, d), { recursive: true });
    for (const u of udcs) mkdirSync(join(this.root, 'sys/class/udc', u));
    for (let i = 0; i < devices; i++) {
      mkdirSync(join(this.root, `sys/block/nbd${i}`), { recursive: true });
      writeFileSync(join(this.root, `sys/block/nbd${i}/size`), '0\n');
    }
    writeFileSync(this.mountInfo, '');
    chmodSync(FAKE_NBD_CLIENT, 0o755);
  }

  get sys(): string {
    return join(this.root, 'sys');
  }
  get configfs(): string {
    return join(this.root, 'sys/kernel/config');
  }
  get dev(): string {
    return join(this.root, 'dev');
  }
  get run(): string {
    return join(this.root, 'run');
  }
  get mountInfo(): string {
    return join(this.root, 'mountinfo');
  }

  gadgetDir(id: string): string {
    return join(this.configfs, 'usb_gadget', `virtual-media.${id}`);
  }
  lunDir(id: string): string {
    return join(this.gadgetDir(id), 'functions/mass_storage.usb0/lun.0');
  }
  size(nbd: string): number {
    return Number(readFileSync(join(this.sys, 'block', nbd, 'size'), 'utf8').trim());
  }
  setFakeMode(nbd: string, mode: 'hang' | 'die' | 'normal'): void {
    writeFileSync(join(this.dev, `${nbd}.fake-mode`), mode);
  }
  nbdClientArgs(nbd: string): string[] {
    return JSON.parse(readFileSync(join(this.dev, `${nbd}.fake-args`), 'utf8')) as string[];
  }
  nbdClientPid(nbd: string): number | undefined {
    const f = join(this.dev, `${nbd}.fake-pid`);
    return existsSync(f) ? Number(readFileSync(f, 'utf8')) : undefined;
  }
  /** Plays the patched kernel: the per-LUN counters file. */
  writeStats(id: string, read: number, write: number): void {
    writeFileSync(join(this.lunDir(id), 'stats'), `read_commands ${read}\nwrite_commands ${write}\nbytes_read ${read * 4096}\nbytes_written ${write * 4096}\nio_errors 0\nfuture_counter 7\n`);
  }
  remove(): void {
    // A fake nbd-client whose server just went away may still be writing its
    // log in dev/ while the tree goes: retry instead of failing on ENOTEMPTY.
    rmSync(this.root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}
