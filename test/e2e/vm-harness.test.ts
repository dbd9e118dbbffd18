// The VM harness itself: exit codes, the share, failures it must report.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommand } from '../support/require-command.js';
import { writeNewc, S_IFDIR, S_IFREG } from './vm/cpio.js';
import { verboseConsole } from './vm/guest-scripts.js';
import { findDebianKernel } from './vm/kernel.js';
import { loadOrder, readModuleDeps } from './vm/modules.js';
import { repoRoot } from './vm/initramfs.js';
import { GUEST_REPO, runInVm, VmError } from './vm/run-in-vm.js';

describe('e2e: VM harness building blocks', function () {
  it('writes a newc archive that busybox cpio lists', function () {
    const archive = writeNewc([
      { name: 'dir', mode: S_IFDIR | 0o755 },
      { name: 'dir/file', mode: S_IFREG | 0o644, data: Buffer.from('abc') },
    ]);
    assert.equal(archive.length % 512, 0);
    const listed = execFileSync('/bin/busybox', ['cpio', '-t'], { input: archive }).toString().trim().split('\n');
    assert.deepEqual(listed, ['dir', 'dir/file']);
  });

  it('orders the 9p modules after their dependencies', function () {
    const kernel = findDebianKernel();
    const order = loadOrder(readModuleDeps(kernel.modulesDir), ['9pnet_virtio', '9p']);
    assert.ok(order.indexOf('9pnet') < order.indexOf('9pnet_virtio'));
    assert.ok(order.indexOf('virtio_ring') < order.indexOf('9pnet_virtio'));
    assert.equal(order[order.length - 1], '9p');
    assert.throws(() => loadOrder(readModuleDeps(kernel.modulesDir), ['no_such_module']), /not found/);
  });
});

/**
 * Sends a line to 127.0.0.1:port and resolves with all it gets back before
 * the close. Until the guest listens, slirp accepts and then closes at once
 * (nothing back): try again until an answer or the deadline.
 */
async function askThroughForward(port: number, line: string, deadlineMs: number): Promise<string> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const answer = await new Promise<string>((resolve) => {
      let got = '';
      const socket = connect(port, '127.0.0.1', () => socket.write(`${line}\n`));
      socket.setTimeout(30_000, () => socket.destroy());
      socket.on('data', (d: Buffer) => (got += d.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(got));
    });
    if (answer !== '') return answer;
    if (Date.now() > until) throw new Error(`nothing came back through the forwarded port ${port} in ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

// Every timeout here only guards against a hung guest: a boot of seconds on a
// quiet machine took over 90 s with several TCG guests and busy loops beside it.
const BOOT_GUARD_MS = 600_000;

describe('e2e: VM harness in qemu', function () {
  this.timeout(BOOT_GUARD_MS + 120_000);

  it('returns the guest exit code, results and files through the share; a forwarded port reaches the guest, which reaches nothing else', async function () {
    const share = mkdtempSync(join(tmpdir(), 'e2e-harness-'));
    // A host service the guest must NOT reach: slirp without restrict=on maps 10.0.2.2 to the host's loopback.
    const hostOnly = createServer((socket) => socket.end('reached the host\n'));
    await new Promise<void>((resolve) => hostOnly.listen(0, '127.0.0.1', resolve));
    const hostOnlyPort = (hostOnly.address() as AddressInfo).port;
    let hostPort: number | undefined;
    let probe: Promise<string> | undefined;
    const show = verboseConsole('harness');
    try {
      writeFileSync(join(share, 'from-host.txt'), 'host says hi\n');
      const run = await runInVm({
        share,
        timeoutMs: BOOT_GUARD_MS,
        forwardTcp: [{ guestPort: 7000 }],
        onForwarded: (forwarded) => (hostPort = forwarded[0]!.hostPort),
        env: { HOST_ONLY_PORT: String(hostOnlyPort) },
        onLine: (line) => {
          show?.(line);
          if (line === 'E2E-LISTENING' && hostPort !== undefined) probe = askThroughForward(hostPort, 'ping', 300_000);
        },
        script: [
          'set -e',
          'echo "guest kernel $(uname -r)"',
          'grep -q "host says hi" "$E2E_SHARE/from-host.txt"',
          'touch /run/writable /tmp/writable /var/tmp/writable',
          '! touch /usr/should-be-read-only 2>/dev/null',
          // restrict=on: the host's loopback is not reachable from the guest (the connect times out).
          'if busybox nc -w 5 10.0.2.2 "$HOST_ONLY_PORT" </dev/null | grep -q reached; then echo "E2E-STEP-FAIL the guest reached the host"; exit 9; fi',
          'echo E2E-LISTENING',
          // One connection, whenever the host makes it (it retries until nc listens).
          'timeout 300 busybox nc -l -p 7000 -e /bin/sh -c \'read -r line; echo "guest got $line"\'',
          'echo "{\\"scenario\\":\\"harness\\",\\"pass\\":true}" >> "$E2E_SHARE/results.jsonl"',
          'echo from-guest > "$E2E_SHARE/from-guest.txt"',
          'exit 7',
        ].join('\n'),
      });
      assert.equal(run.exitCode, 7, `guest exit code ${run.exitCode}; console tail:\n${run.console.split('\n').slice(-15).join('\n')}`);
      assert.deepEqual(run.results, [{ scenario: 'harness', pass: true }]);
      assert.equal(readFileSync(join(share, 'from-guest.txt'), 'utf8'), 'from-guest\n');
      assert.match(run.console, /guest kernel \d+\.\d+\.\d+-\d+-amd64/);
      assert.match(run.console, /^E2E-NET \S+ 10\.0\.2\.15\/24$/m);
      assert.deepEqual(run.forwarded, [{ guestPort: 7000, hostPort }]);
      assert.ok(probe, 'the guest never said it listens');
      assert.equal(await probe, 'guest got ping\n');
    } finally {
      hostOnly.close();
      rmSync(share, { recursive: true, force: true });
    }
  });

  it('kills qemu on timeout and says which step the guest was in', async function () {
    // The guest names its step, then signals it is waiting (E2E-WAITING), so
    // the host arms a short timeout only once the step is known: behaviour,
    // whatever the boot took on a loaded machine.
    await assert.rejects(
      runInVm({
        timeoutMs: BOOT_GUARD_MS,
        stepTimeout: { line: 'E2E-WAITING', ms: 3_000 },
        onLine: verboseConsole('timeout'),
        script: 'echo "E2E-STEP waiting forever"\necho E2E-WAITING\nsleep 600\n',
      }),
      (err: unknown) => {
        assert.ok(err instanceof VmError, String(err));
        assert.match(err.message, /timed out 3000 ms after E2E-WAITING/);
        assert.match(err.message, /last guest step: waiting forever/);
        return true;
      },
    );
  });

  it('fails clearly when a replacement module cannot be loaded', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'e2e-badko-'));
    try {
      const bogus = join(dir, 'bogus.ko');
      writeFileSync(bogus, 'not an ELF module');
      await assert.rejects(
        runInVm({ timeoutMs: BOOT_GUARD_MS, replaceModules: { usb_f_mass_storage: bogus }, script: 'exit 0\n' }),
        /guest stage 2 failed[\s\S]*insmod replacement/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs from a clone under /tmp (the guest gets the repository as its own share, not by host path)', async function () {
    requireCommand('git', 'git');
    const clone = mkdtempSync(join(tmpdir(), 'e2e-clone-'));
    try {
      // HEAD of this working tree, as a new user would get it; no node_modules
      // (this scenario needs none: the host side runs on this tree's tsx).
      execFileSync('git', ['clone', '--quiet', '--no-hardlinks', repoRoot, clone]);
      writeFileSync(join(clone, 'clone-marker'), `${clone}\n`);
      const script = join(clone, 'guest-script.sh');
      // The guest reports the marker it reads from its copy of the repository.
      writeFileSync(script, [
        'set -e',
        '. "$E2E_GUEST_DIR/lib.sh"',
        'marker=$(cat "$E2E_REPO/clone-marker")',
        'printf \'{"scenario":"clone","pass":true,"marker":%s,"guestDir":%s}\\n\' "$(json_str "$marker")" "$(json_str "$E2E_GUEST_DIR")" >> "$E2E_SHARE/results.jsonl"',
      ].join('\n'));
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', join(clone, 'test/e2e/vm/run-script.ts'), script, String(BOOT_GUARD_MS / 1000)],
        { cwd: repoRoot, maxBuffer: 16 << 20 },
      );
      const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { exitCode: number; results: { scenario: string; marker: string; guestDir: string }[] };
      assert.equal(out.exitCode, 0);
      assert.deepEqual(out.results.map((r) => r.scenario), ['clone']);
      assert.equal(out.results[0]!.marker, clone, 'the guest read the clone, not this tree');
      assert.equal(out.results[0]!.guestDir, `${GUEST_REPO}/test/e2e/guest`);
    } finally {
      rmSync(clone, { recursive: true, force: true });
    }
  });
});
