// Test images: a plain disk image and an ISO 9660 one (CD001 at byte 32769).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

export function diskImage(path: string, bytes = 1024 * 1024): Buffer {
  const data = randomBytes(bytes);
  // Not an ISO by accident.
  data.write('XXXXX', 32769, 'latin1');
  writeFileSync(path, data);
  return data;
}

export function isoImage(path: string, bytes = 1024 * 1024): Buffer {
  const data = randomBytes(bytes);
  data[32768] = 1;
  data.write('CD001', 32769, 'latin1');
  writeFileSync(path, data);
  return data;
}
