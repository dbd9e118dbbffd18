// For bench/nbd.ts only: our NBD server (the core, FileMedium, the socket
// transport) on a plain unix socket, no websocket and no TLS, in a process
// of its own, so that its CPU and rate compare with nbdkit's on the same
// socket: what is ours, without the transport. Serves one connection, then
// exits. Prints "listening" once the socket is ready.
// Usage: tsx bench/nbd-unix-serve.ts SOCKET IMAGE
import { createServer } from 'node:net';
import { FileMedium } from '../nbd/node/file-medium.js';
import { serveSocket } from '../nbd/node/socket-transport.js';

const [socketPath, image] = process.argv.slice(2) as [string, string];
const medium = await FileMedium.open(image, false);
const server = createServer((socket) => {
  server.close();
  void serveSocket(socket, medium, { name: 'image' }).done.then(async () => {
    await medium.close();
    process.exit(0);
  });
});
server.listen(socketPath, () => process.stdout.write('listening\n'));
