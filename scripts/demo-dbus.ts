// The main job, on embedded defaults: regenerate the VirtualMedia bindings
// from interfaces/, start a private D-Bus, export a VirtualMedia mount point
// through the generated server classes, and read it back through the
// generated typed client and through busctl.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolve } from 'node:path';
import * as rt from '../codegen/runtime/index.js';
import { generate } from '../codegen/src/generate.js';
import { writeOutput } from '../codegen/src/output.js';
import { startPrivateBus } from '../test/support/private-bus.js';
import { findCommand } from '../test/support/require-command.js';
import { MountPointServer } from '../bindings/xyz/openbmc_project/VirtualMedia/MountPoint/server.js';
import { MountPointClient } from '../bindings/xyz/openbmc_project/VirtualMedia/MountPoint/client.js';
import { ProcessServer } from '../bindings/xyz/openbmc_project/VirtualMedia/Process/server.js';
import { ProcessClient } from '../bindings/xyz/openbmc_project/VirtualMedia/Process/client.js';
import { ProxyServer } from '../bindings/xyz/openbmc_project/VirtualMedia/Proxy/server.js';
import { ProxyClient } from '../bindings/xyz/openbmc_project/VirtualMedia/Proxy/client.js';
import { StatsServer } from '../bindings/xyz/openbmc_project/VirtualMedia/Stats/server.js';

const SERVICE = 'xyz.openbmc_project.VirtualMedia';
const ROOT = '/xyz/openbmc_project/VirtualMedia';
const PATH = `${ROOT}/Proxy/Slot_0`;

const step = (s: string) => console.log(`\n== ${s}`);

/** A toy proxy mount point: Mount flips Active and reports Completion(0) a moment later. */
class DemoProxy extends ProxyServer {
  constructor(private readonly process: ProcessServer) {
    super();
  }
  Mount(): boolean {
    this.process.Active = true;
    setTimeout(() => this.emitCompletion(0), 100);
    return true;
  }
  Unmount(): boolean {
    this.process.Active = false;
    setTimeout(() => this.emitCompletion(0), 100);
    return true;
  }
}

async function main(): Promise<void> {
  step('Generating typed bindings from interfaces/ (pdi-tsgen)');
  const result = generate({ root: 'interfaces', docs: true, runtime: { entry: resolve('codegen/runtime/index.ts'), outputRoot: resolve('bindings') } });
  if (result.diagnostics.length) throw new Error(result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`).join('\n'));
  const { written } = writeOutput({ code: 'bindings', docs: 'docs/interfaces' }, result.files);
  console.log(`${result.files.length} files (${written} changed) in bindings/ and docs/interfaces/`);

  step('Starting a private dbus-daemon');
  const bus = await startPrivateBus();
  console.log(`address ${bus.address}`);
  const server = await rt.Connection.open({ address: bus.address });
  const client = await rt.Connection.open({ address: bus.address });
  try {
    step(`Exporting ${PATH} with the generated server classes`);
    const objects = new rt.ObjectServer(server);
    objects.addManager(ROOT);
    const process = new ProcessServer();
    const mountPoint = new MountPointServer({
      initial: { EndPointId: '/nbd/0', EndpointId: '/nbd/0', Mode: 0, Device: '/dev/nbd0', Socket: '/run/virtual-media/nbd0.sock', Timeout: 30, BlockSize: 512 },
    });
    objects.add(PATH, process, mountPoint, new StatsServer(), new DemoProxy(process));
    await server.requestName(SERVICE);

    step('Reading it back through the generated typed client');
    const mp = new MountPointClient(client, SERVICE, PATH);
    const proc = new ProcessClient(client, SERVICE, PATH);
    const proxy = new ProxyClient(client, SERVICE, PATH);
    console.log(await mp.getAll());
    const completion = new Promise<number>((r) => void proxy.onCompletion(r));
    const activeChanged = new Promise<unknown>((r) => void proc.onPropertiesChanged((changed) => r(changed)));
    console.log(`Proxy.Mount() -> ${await proxy.Mount()}`);
    console.log(`PropertiesChanged: ${JSON.stringify(await activeChanged)}`);
    console.log(`Completion(${await completion})`);
    console.log(`Process.Active = ${await proc.get('Active')}`);

    step('Reading it back with busctl');
    const busctl = findCommand('busctl');
    if (!busctl) throw new Error("busctl is missing: install the Debian package 'systemd' (npm run bootstrap does this)");
    // Asynchronously: the service answering busctl lives in this process.
    const run = async (...args: string[]) => (await promisify(execFile)(busctl, [`--address=${bus.address}`, ...args], { encoding: 'utf8' })).stdout;
    console.log(await run('tree', SERVICE));
    console.log(await run('introspect', SERVICE, PATH, 'xyz.openbmc_project.VirtualMedia.MountPoint'));
    console.log(await run('get-property', SERVICE, PATH, 'xyz.openbmc_project.VirtualMedia.Process', 'Active'));
  } finally {
    await client.close();
    await server.close();
    await bus.stop();
  }
  console.log('\ndemo: done');
}

main().catch((e) => {
  console.error(`demo failed: ${(e as Error).message}`);
  process.exitCode = 1;
});
