// Legacy.Mount's argument checks, shared by the YAML's `sbv` form and
// bmcweb's `sbh` form. Order matters: state first (cheap, and a busy mount
// point must not swallow a secret it will not use), then the URL, then the
// reservation, and only then the credentials, read while the mount point is
// already reserved so a second Mount cannot slip in during the read.
import { CredentialsError, readSecretFd, type Credentials } from '../media/credentials.js';
import { UrlError, parseImageUrl, type ImageUrl } from '../media/image-url.js';
import type { MountPoint } from '../mountpoint/mount-point.js';
import { checkMountAllowed } from '../mountpoint/state.js';
import { asDbusError, invalidArgument } from './errors.js';

export type FdArgument = { type: 'int32'; value: number } | { type: 'unixfd'; value: number };

export async function legacyMount(mp: MountPoint, imageUrl: string, readWrite: boolean, fd: FdArgument): Promise<boolean> {
  try {
    checkMountAllowed(mp.state);
  } catch (e) {
    throw asDbusError(e);
  }
  let image: ImageUrl;
  try {
    image = parseImageUrl(imageUrl);
  } catch (e) {
    if (e instanceof UrlError) throw invalidArgument(e.message);
    throw e;
  }
  if (image.kind === 'https' && readWrite) throw invalidArgument('https images are read-only: ReadWrite must be false');
  if (fd.type === 'int32' && fd.value !== -1) throw invalidArgument('the credentials argument must be a unix fd or the integer -1');
  try {
    mp.reserve();
  } catch (e) {
    throw asDbusError(e);
  }
  let credentials: Credentials | undefined;
  try {
    if (fd.type === 'unixfd') credentials = await readSecretFd(fd.value);
  } catch (e) {
    mp.release();
    throw invalidArgument(e instanceof CredentialsError ? e.message : 'the credentials descriptor cannot be read');
  }
  return mp.startMount({ kind: 'legacy', image, readWrite, credentials });
}
