// The CLI's Redfish client against a BMC that closes an idle kept-alive
// connection just as the next request goes out on it (bmcweb and Node
// servers both time idle connections out): a GET or DELETE is sent once more
// on a new connection, a POST is not (it could have been acted on).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedfishClient } from '../../nbd/cli/redfish.js';
import { makePki, type Pki } from '../daemon/support/tls-server.js';

describe('nbd CLI: Redfish client on kept-alive connections', function () {
  this.timeout(30_000);
  let dir: string;
  let pki: Pki;
  let server: Server;
  let agent: Agent;
  const seen: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nbd-redfish-'));
    pki = makePki(dir);
    // The second request on any connection finds it closed: the server's side of the idle-timeout race.
    const served = new WeakMap<Socket, number>();
    server = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      seen.push(`${req.method} ${req.url} #${n}`);
      if (n > 1) return void req.socket.destroy();
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Auth-Token': 't', Location: '/redfish/v1/SessionService/Sessions/1' });
      res.end(JSON.stringify({ Members: [] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  beforeEach(() => {
    seen.length = 0;
    agent = new Agent({ ca: readFileSync(pki.caFile), keepAlive: true });
  });
  afterEach(() => agent.destroy());
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const client = () => new RedfishClient(new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`), agent, 10_000);

  it('a GET reset on a reused connection is sent again on a new one', async () => {
    const redfish = client();
    await redfish.login('root', 'pw');
    assert.deepEqual(await redfish.get('/redfish/v1/Managers'), { Members: [] });
    assert.deepEqual(seen, ['POST /redfish/v1/SessionService/Sessions #1', 'GET /redfish/v1/Managers #2', 'GET /redfish/v1/Managers #1']);
  });

  it('a DELETE (logout) is sent again too; a POST is not', async () => {
    const redfish = client();
    await redfish.login('root', 'pw');
    await redfish.logout();
    assert.deepEqual(seen.slice(1), ['DELETE /redfish/v1/SessionService/Sessions/1 #2', 'DELETE /redfish/v1/SessionService/Sessions/1 #1']);
    seen.length = 0;
    await redfish.get('/redfish/v1/Managers'); // the only kept-alive connection has served one request
    await assert.rejects(redfish.login('root', 'pw'), /POST .*Sessions: (socket hang up|read ECONNRESET)/);
    assert.deepEqual(seen.slice(-1), ['POST /redfish/v1/SessionService/Sessions #2']);
  });
});
