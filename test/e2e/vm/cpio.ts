// A minimal writer for the "newc" cpio format the kernel unpacks as an
// initramfs. Written here (instead of calling cpio) so the archive can hold a
// /dev/console device node without mknod on the host.

export interface CpioEntry {
  name: string;
  /** full st_mode, e.g. 0o100755 for an executable file, 0o040755 for a directory */
  mode: number;
  data?: Buffer;
  /** for device nodes */
  rdevMajor?: number;
  rdevMinor?: number;
}

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function header(entry: CpioEntry, ino: number, size: number): Buffer {
  const name = Buffer.from(`${entry.name}\0`, 'utf8');
  const fields = [
    ino,
    entry.mode,
    0, // uid
    0, // gid
    entry.mode & S_IFDIR ? 2 : 1, // nlink
    0, // mtime: fixed so the archive is reproducible
    size,
    0, // devmajor
    0, // devminor
    entry.rdevMajor ?? 0,
    entry.rdevMinor ?? 0,
    name.length,
    0, // check
  ];
  const text = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  const head = Buffer.concat([text, name]);
  return Buffer.concat([head, pad4(head.length)]);
}

export function writeNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const entry of entries) {
    const data = entry.data ?? Buffer.alloc(0);
    parts.push(header(entry, ino++, data.length), data, pad4(data.length));
  }
  parts.push(header({ name: 'TRAILER!!!', mode: 0 }, 0, 0));
  const body = Buffer.concat(parts);
  // The kernel is happy without it, but cpio tools expect 512-byte blocks.
  return Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}
