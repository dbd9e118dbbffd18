// The NBD server core: no Node and no DOM APIs, only what both offer.
export { NbdServerConnection } from './server.js';
export type { ServerOptions, ExportOptions, ServerStats, ConnectionEnd } from './server.js';
export type { Medium } from './medium.js';
export { MemoryMedium } from './medium.js';
export type { Transport } from './transport.js';
export { MAX_PAYLOAD } from './protocol.js';
