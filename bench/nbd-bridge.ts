// For bench/nbd.ts only: nbdkit behind the same websocket path as the CLI.
// A byte pipe between nbdkit's unix socket and bmcweb's /nbd websocket
// (everything virtual-media-serve does except being the NBD server), so
// nbdkit and our server can be compared over the same transport.
// Usage: tsx bench/nbd-bridge.ts BMC_URL CA_FILE NBDKIT_SOCKET (password in BMC_PASSWORD)
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { RedfishClient } from '../nbd/cli/redfish.js';
import { websocketTransport } from '../nbd/node/ws-transport.js';

const [bmcUrl, caFile, nbdkitSocket] = process.argv.slice(2) as [string, string, string];
const ca = readFileSync(caFile);
const agent = new Agent({ ca });
const redfish = new RedfishClient(new URL(bmcUrl), agent);
await redfish.login('root', process.env.BMC_PASSWORD ?? '');
try {
  const [slot] = await redfish.proxySlots();
  const url = new URL(slot!.endpoint, bmcUrl);
  url.protocol = 'wss:';
  const ws = new WebSocket(url, { headers: { 'X-Auth-Token': redfish.token! }, ca });
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  const nbd = connect(nbdkitSocket);
  const toBmc = websocketTransport(ws);
  nbd.on('data', (d: Buffer) => toBmc.send(d));
  ws.on('message', (d: Buffer) => nbd.write(d));
  await new Promise<void>((resolve) => {
    nbd.on('close', () => (ws.close(1000), resolve()));
    nbd.on('error', () => undefined);
    ws.on('close', () => (nbd.destroy(), resolve()));
  });
  if (ws.readyState !== ws.CLOSED) await new Promise((r) => ws.once('close', r));
} finally {
  await redfish.logout();
  agent.destroy();
}
