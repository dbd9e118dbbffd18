// Property tests (fast-check): whatever the config file, URL, secret payload,
// stats file or D-Bus arguments, the daemon's parsers either accept with a
// well-formed result or refuse with their own clear error, never crash, and
// never echo a secret.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseConfig } from '../../daemon/src/config/parse.js';
import { CredentialsError, MAX_SECRET_BYTES, parseSecret } from '../../daemon/src/media/credentials.js';
import { UrlError, parseImageUrl } from '../../daemon/src/media/image-url.js';
import { parseLunStats } from '../../daemon/src/seams/lun-stats.js';
import { InvalidArgument, NotAllowed } from '../../bindings/xyz/openbmc_project/Common/error.js';
import { Busy } from '../../bindings/xyz/openbmc_project/VirtualMedia/error.js';
import { Harness, ROOT } from './support/harness.js';
import { SERVICE } from './support/daemon-process.js';
import { secretPipe } from './support/secret-pipe.js';

const SECRET_ERRORS = [
  `the credentials are longer than ${MAX_SECRET_BYTES} bytes (a user name and a password of at most 512 bytes each, each followed by a NUL)`,
  'the credentials must be "user\\0password\\0" with exactly two NULs',
  'the credentials must end with the NUL after the password',
  'the user name is longer than 512 bytes',
  'the password is longer than 512 bytes',
  'a password was given without a user name',
  'the credentials are not valid UTF-8',
  'the user name contains control characters',
  'the password contains control characters',
];

const validMountPoint = fc.record(
  {
    EndpointId: fc.constantFrom('/nbd/0', '/nbd/1', ''),
    Mode: fc.constantFrom(0, 1),
    NBDDevice: fc.constantFrom('nbd0', '/dev/nbd1', 'nbd15'),
    UnixSocket: fc.constantFrom('/run/vm/a.sock', '/tmp/b.sock'),
    Timeout: fc.integer({ min: 1, max: 3600 }),
    BlockSize: fc.constantFrom(512, 1024, 2048, 4096),
  },
  { requiredKeys: ['Mode', 'NBDDevice'] },
);

describe('daemon: property tests', function () {
  this.timeout(120_000);

  it('config: any JSON value gives a config or a list of problems with paths, never an exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ MountPoints: fc.dictionary(fc.string(), fc.oneof(validMountPoint, fc.jsonValue())), InactivityTimeout: fc.jsonValue() }, { requiredKeys: [] })), (value) => {
        const r = parseConfig(JSON.stringify(value));
        if (r.ok) {
          assert.ok(r.config.mountPoints.length > 0);
          for (const mp of r.config.mountPoints) {
            assert.match(mp.nbdDevice, /^nbd[0-9]+$/);
            assert.ok(mp.unixSocket.startsWith('/'));
            assert.ok([0, 1].includes(mp.mode));
          }
        } else {
          assert.ok(r.problems.length > 0);
          for (const p of r.problems) assert.ok(p.path.length > 0 && p.reason.length > 0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('config: arbitrary text never throws', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => void parseConfig(text)), { numRuns: 2000 });
  });

  it('URLs: accepted ones are https:// or smb:// without credentials or dot segments; the rest raise UrlError', () => {
    const urlish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.tuple(fc.constantFrom('https://', 'smb://', 'http://', 'ftp://', 'smb:', 'https:///'), fc.string({ maxLength: 80 })).map(([a, b]) => a + b),
      fc.tuple(fc.constantFrom('smb://nas/', 'https://h/'), fc.array(fc.constantFrom('a', '..', '.', '%2e%2e', '%2F', '', 'x y', '%00', 'é', 'img.iso'), { maxLength: 5 })).map(([a, b]) => a + b.join('/')),
    );
    fc.assert(
      fc.property(urlish, (text) => {
        let parsed;
        try {
          parsed = parseImageUrl(text);
        } catch (e) {
          assert.ok(e instanceof UrlError, `unexpected ${String(e)}`);
          assert.ok((e as Error).message.length > 0);
          return;
        }
        const u = new URL(parsed.url);
        assert.equal(u.username + u.password, '');
        if (parsed.kind === 'https') assert.equal(u.protocol, 'https:');
        else {
          assert.equal(u.protocol, 'smb:');
          assert.match(parsed.unc, /^\/\/[^/]+\/[^/]+/);
          assert.ok(parsed.file.length > 0 && !parsed.file.includes('/'));
          assert.ok(!parsed.unc.split('/').includes('..') && parsed.file !== '..');
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('secrets: exactly user\\0password\\0 is accepted; errors never contain the payload', () => {
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 1100 }).map((a) => Buffer.from(a)),
      fc.tuple(fc.string({ maxLength: 40 }), fc.string({ maxLength: 600 })).map(([u, p]) => Buffer.from(`${u}\0${p}\0`, 'utf8')),
      fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([u, p, x]) => Buffer.from(`${u}\0${p}\0${x}`, 'utf8')),
    );
    fc.assert(
      fc.property(payload, (data) => {
        try {
          const c = parseSecret(data);
          assert.ok(data.length <= MAX_SECRET_BYTES);
          // "\0\0" is bmcweb's "no credentials"; anything else round-trips.
          assert.deepEqual(Buffer.from(c ? `${c.user}\0${c.password}\0` : '\0\0', 'utf8'), data);
          if (c) assert.ok(c.user.length > 0);
        } catch (e) {
          assert.ok(e instanceof CredentialsError, `unexpected ${String(e)}`);
          // Fixed texts only: nothing of the payload can be in them.
          assert.ok(SECRET_ERRORS.includes((e as Error).message), `unexpected message ${(e as Error).message}`);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('lun stats: any text parses to counters below 2^64, unknown names ignored', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('read_commands', 'write_commands', 'bytes_read', 'io_errors', 'new_thing', 'x'), fc.bigInt({ min: 0n, max: 2n ** 70n })), { maxLength: 8 }), fc.string({ maxLength: 50 }), (lines, junk) => {
        const text = lines.map(([n, v]) => `${n} ${v}`).join('\n') + '\n' + junk;
        const s = parseLunStats(text);
        for (const v of Object.values(s)) assert.ok(v >= 0n && v < 2n ** 64n);
        const last = lines.filter(([n, v]) => n === 'read_commands' && v < 2n ** 64n).at(-1);
        if (last && !/^\s*read_commands\s/m.test(junk)) assert.equal(s.readCommands, last[1]);
      }),
      { numRuns: 2000 },
    );
  });

  describe('D-Bus arguments against the running daemon', () => {
    let h: Harness;
    before(async () => {
      h = await Harness.create();
      await h.start({
        Slot_0: { EndpointId: '/nbd/0', Mode: 0, NBDDevice: 'nbd0', UnixSocket: join(h.kernel.run, 'nbd0.sock'), Timeout: 1 },
        Slot_2: { Mode: 1, NBDDevice: 'nbd2', UnixSocket: join(h.kernel.run, 'nbd2.sock'), Timeout: 1 },
      });
    });
    after(async () => {
      await h.stop();
    });

    it('Legacy.Mount with arbitrary URL, flag and credentials: true or a declared error, never InternalFailure', async () => {
      const legacy = h.legacy('Slot_2');
      const completions = await h.watchCompletions(legacy);
      let started = 0;
      // Weighted towards arguments that pass the checks, so the runs also exercise started work.
      const url = fc.oneof(
        { arbitrary: fc.constantFrom('https://127.0.0.1:1/x.iso', 'smb://nowhere/share/x.img'), weight: 3 },
        { arbitrary: fc.string({ maxLength: 100 }), weight: 1 },
        { arbitrary: fc.constantFrom('smb://h/s', 'https://[::1', 'https://h/%zz', 'http://h/x.iso'), weight: 1 },
      );
      const fd = fc.oneof(
        { arbitrary: fc.constant({ kind: 'int' as const, value: -1 }), weight: 2 },
        { arbitrary: fc.integer({ min: -5, max: 5 }).map((value) => ({ kind: 'int' as const, value })), weight: 1 },
        { arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 20 })).map(([u, p]) => ({ kind: 'pipe' as const, bytes: Buffer.from(`${u}\0${p}\0`) })), weight: 2 },
        { arbitrary: fc.uint8Array({ maxLength: 1200 }).map((bytes) => ({ kind: 'pipe' as const, bytes: Buffer.from(bytes) })), weight: 1 },
      );
      await fc.assert(
        fc.asyncProperty(url, fc.boolean(), fd, async (u, rw, f) => {
          const pipe = f.kind === 'pipe' ? secretPipe(h.kernel.root, f.bytes) : undefined;
          const before = completions.length;
          try {
            const arg = pipe ? { type: 'unixfd' as const, value: pipe.fd } : { type: 'int32' as const, value: (f as { value: number }).value };
            const ok = await legacy.Mount(u, rw, arg);
            assert.equal(ok, true);
            started++;
            // It started: wait for its end before the next run.
            await h.nextCompletion(completions, before + 1, 20_000);
            if ((await h.process(`${ROOT}/Legacy/Slot_2`).get('Active')) === true) {
              await legacy.Unmount();
              await h.nextCompletion(completions, before + 2, 20_000);
            }
          } catch (e) {
            assert.ok(e instanceof InvalidArgument || e instanceof NotAllowed || e instanceof Busy, `unexpected ${String(e)}`);
          } finally {
            pipe?.close();
          }
        }),
        { numRuns: 60 },
      );
      assert.ok(started >= 3, `only ${started} runs got past the checks: the generator is too narrow`);
      assert.ok(!h.daemon!.log().includes('InternalFailure'), h.daemon!.log());
    });

    it('wrong signatures are refused by the bus layer and the daemon stays up', async () => {
      const bodies: [string, unknown[]][] = [
        ['s', ['https://h/x']],
        ['sbs', ['https://h/x', false, 'fd']],
        ['sbi', ['https://h/x', false, -1]],
        ['', []],
        ['bbb', [true, true, true]],
      ];
      for (const [signature, body] of bodies) {
        await assert.rejects(() => h.client.call({ destination: SERVICE, path: `${ROOT}/Legacy/Slot_2`, interface: 'xyz.openbmc_project.VirtualMedia.Legacy', member: 'Mount', signature, body }), /./);
      }
      await assert.rejects(() => h.client.call({ destination: SERVICE, path: `${ROOT}/Proxy/Slot_0`, interface: 'xyz.openbmc_project.VirtualMedia.Proxy', member: 'Mount', signature: 's', body: ['x'] }), /./);
      assert.equal(await h.process(`${ROOT}/Proxy/Slot_0`).get('Active'), false, 'still answering');
    });
  });
});
