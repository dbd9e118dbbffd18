// Where virtual-media-serve's password comes from: a file, the
// environment, or a terminal prompt that echoes nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { obtainPassword } from '../../nbd/cli/password.js';

/** A terminal stand-in: input that says it is a TTY and records raw-mode switches. */
function terminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true, rawModes: [] as boolean[], setRawMode(raw: boolean) { this.rawModes.push(raw); } });
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d: Buffer) => (shown += d.toString()));
  return { input, output, shown: () => shown };
}

describe('nbd CLI: password sources', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'nbd-pw-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a file wins over the environment; its final newline is not part of the password', async () => {
    const file = join(dir, 'pw');
    writeFileSync(file, 's3cret \n');
    const t = terminal();
    assert.equal(await obtainPassword('root', { file, env: { BMC_PASSWORD: 'other' }, ...t }), 's3cret ');
    assert.equal(await obtainPassword('root', { env: { BMC_PASSWORD: 'from-env' }, ...t }), 'from-env');
    await assert.rejects(obtainPassword('root', { file: join(dir, 'missing'), env: {}, ...t }), /cannot read the password file .*missing: ENOENT/);
  });

  it('prompts on a terminal in raw mode, echoes nothing, handles backspace, restores the terminal', async () => {
    const t = terminal();
    const got = obtainPassword('admin', { env: {}, ...t });
    t.input.write('pas');
    t.input.write('x\u007fsword\r');
    assert.equal(await got, 'password');
    assert.equal(t.shown(), 'Password for admin: \n');
    assert.deepEqual(t.input.rawModes, [true, false]);
  });

  it('Ctrl-C at the prompt rejects; without a terminal, file or variable the error says what to do', async () => {
    const t = terminal();
    const got = obtainPassword('root', { env: {}, ...t });
    t.input.write('ab\u0003');
    await assert.rejects(got, /interrupted/);
    assert.deepEqual(t.input.rawModes, [true, false]);
    const notTty = { ...terminal(), input: new PassThrough() };
    await assert.rejects(obtainPassword('root', { env: {}, ...notTty }), /--password-file, set BMC_PASSWORD/);
  });
});
