// What a Mount call asks for, after its arguments were checked.
import type { Credentials } from '../media/credentials.js';
import type { ImageUrl } from '../media/image-url.js';

export type MountRequest =
  | { readonly kind: 'proxy' }
  | { readonly kind: 'legacy'; readonly image: ImageUrl; readonly readWrite: boolean; readonly credentials: Credentials | undefined };
