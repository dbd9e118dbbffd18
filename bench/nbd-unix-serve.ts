// For bench/nbd.ts only: our NBD server (the core, FileMedium, the socket
// transport) on a plain unix socket, no websocket and no TLS, in a process
// of its own, so that its CPU and rate compare with nbdkit's on a socket of
// the same kind: what is ours, without the transport. Serves one connection
// after another (like nbdkit) until it is killed, so that the bench can time
// a warm server as well as its first copy. Prints "listening" once the
// socket is ready.
// Usage: tsx bench/nbd-unix-serve.ts SOCKET IMAGE
import { createServer } from 'node:net';
import { FileMedium } from '../nbd/node/file-medium.js';
import { serveSocket } from '../nbd/node/socket-transport.js';

const [socketPath, image] = process.argv.slice(2) as [string, string];
const medium = await FileMedium.open(image, false);
const server = createServer((socket) => void serveSocket(socket, medium, { name: 'image' }));
server.listen(socketPath, () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
