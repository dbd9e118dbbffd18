// The image URLs Legacy.Mount accepts: https:// (served by nbdkit's curl
// plugin) and smb://host/share/path/image (kernel CIFS + nbdkit's file
// plugin). Credentials never come in the URL: they travel on the fd, and a
// URL ends up in nbdkit's argv.

export type ImageUrl =
  | { readonly kind: 'https'; readonly url: string }
  | { readonly kind: 'smb'; readonly url: string; readonly unc: string; readonly file: string };

export class UrlError extends Error {}

const MAX_URL = 2048;
// Printable ASCII only: a WHATWG URL re-encodes the rest anyway, and control
// characters have no business in argv or a log line.
const PRINTABLE = /^[\x21-\x7e]+$/;

export function parseImageUrl(text: string): ImageUrl {
  if (text.length === 0) throw new UrlError('the image URL is empty');
  if (text.length > MAX_URL) throw new UrlError(`the image URL is longer than ${MAX_URL} characters`);
  if (!PRINTABLE.test(text)) throw new UrlError('the image URL must be printable ASCII without spaces (percent-encode the rest)');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UrlError('the image URL is not a valid URL');
  }
  if (url.username || url.password) throw new UrlError('the image URL must not carry credentials (pass them on the file descriptor)');
  if (url.protocol === 'https:') return parseHttps(url);
  if (url.protocol === 'smb:') return parseSmb(url);
  throw new UrlError(`the image URL must start with https:// or smb:// (got ${url.protocol}//)`);
}

function parseHttps(url: URL): ImageUrl {
  if (!url.hostname) throw new UrlError('the https URL has no host');
  if (url.pathname === '/' || url.pathname === '') throw new UrlError('the https URL names no image');
  url.hash = '';
  return { kind: 'https', url: url.href };
}

function parseSmb(url: URL): ImageUrl {
  if (!url.hostname) throw new UrlError('the smb URL has no host');
  if (url.port) throw new UrlError('the smb URL must not give a port');
  if (url.search || url.hash) throw new UrlError('the smb URL must not have a query or fragment');
  const segments = url.pathname.split('/').slice(1).map((s) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(s);
    } catch {
      throw new UrlError('the smb URL has a bad percent-encoding');
    }
    if (decoded === '' || decoded === '.' || decoded === '..') throw new UrlError('the smb URL path has an empty, "." or ".." element');
    if (/[\x00-\x1f\x7f\\/]/.test(decoded)) throw new UrlError('the smb URL path has control characters, slashes or backslashes in an element');
    return decoded;
  });
  if (segments.length < 2) throw new UrlError('the smb URL must be smb://host/share/[path/]image');
  const file = segments[segments.length - 1]!;
  const dirs = segments.slice(0, -1);
  return { kind: 'smb', url: url.href, unc: `//${url.hostname}/${dirs.join('/')}`, file };
}
