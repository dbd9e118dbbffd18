// The kas project file (validated against kas's JSON schema), the CI workflow
// that builds it, and the qemu boot check the workflow runs (exercised here
// against a scripted stand-in for qemu-system-arm's serial console).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { requireCommand } from '../support/require-command.js';
import { kasFile, layerDir, read, repoRoot, workflowFile } from './support/layer-files.js';

const execFileAsync = promisify(execFile);
const kasSchema = '/usr/lib/python3/dist-packages/kas/schema-kas.json';
const bootCheck = join(layerDir, 'ci/qemu-boot-check.py');
// Debian's python3 is the one the kas package brings jsonschema and yaml to.
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// Debian bookworm has kas 3.1 (configuration format 12). Format 14 (kas 4.1)
// added `commit` and `branch` to repos and defaults.repos, replacing the
// deprecated `refspec`, and the top-level `overrides`; everything else the
// file uses is in format 12. The validator adds exactly those keys.
const validator = String.raw`
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
repo = schema["properties"]["repos"]["additionalProperties"]["oneOf"][0]["properties"]
repo["commit"] = {"type": "string", "pattern": "^[0-9a-f]{40}$"}
repo["branch"] = {"oneOf": [{"type": "string"}, {"type": "null"}]}
defaults = schema["properties"]["defaults"]["properties"]["repos"]["properties"]
defaults["branch"] = {"type": "string"}
schema["properties"]["overrides"] = {"type": "object"}
doc = yaml.safe_load(open(sys.argv[2]))
try:
    jsonschema.validate(doc, schema)
except jsonschema.ValidationError as e:
    print("invalid:", e.message, "at", list(e.absolute_path))
    sys.exit(1)
print("valid")
`;

async function validateKas(file: string): Promise<{ code: number; output: string }> {
  requireCommand('python3', 'python3');
  assert.ok(existsSync(kasSchema), `${kasSchema} not found: install the Debian package kas`);
  try {
    const { stdout } = await execFileAsync(python, ['-c', validator, kasSchema, file]);
    return { code: 0, output: stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

interface KasFile {
  header: { version: number };
  machine: string;
  distro: string;
  target: string;
  repos: Record<string, { url?: string; branch?: string; commit?: string; layers: Record<string, null> } | null>;
  local_conf_header: Record<string, string>;
}

describe('layer: kas project file and CI workflow', function () {
  this.timeout(60_000);
  let dir: string;
  const kas = parse(read(kasFile)) as KasFile;

  before(() => (dir = mkdtempSync(join(tmpdir(), 'vm-layer-kas-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("validates against kas's JSON schema (format 14)", async () => {
    const result = await validateKas(kasFile);
    assert.equal(result.code, 0, result.output);
    assert.equal(kas.header.version, 14);
  });

  it('the schema check rejects an unknown key and a commit that is not a full hash', async () => {
    const unknown = join(dir, 'unknown.yml');
    writeFileSync(unknown, read(kasFile).replace('machine: evb-ast2600', 'machin: evb-ast2600'));
    assert.notEqual((await validateKas(unknown)).code, 0);
    const shortCommit = join(dir, 'short.yml');
    writeFileSync(shortCommit, read(kasFile).replace(/commit: ([0-9a-f]{40})/, 'commit: abc123'));
    assert.notEqual((await validateKas(shortCommit)).code, 0);
  });

  it('builds obmc-phosphor-image for evb-ast2600 from a pinned OpenBMC with the layers it needs', () => {
    assert.equal(kas.machine, 'evb-ast2600');
    assert.equal(kas.distro, 'openbmc-phosphor');
    assert.equal(kas.target, 'obmc-phosphor-image');
    const openbmc = kas.repos.openbmc!;
    assert.equal(openbmc.url, 'https://github.com/openbmc/openbmc.git');
    assert.match(openbmc.commit ?? '', /^[0-9a-f]{40}$/);
    for (const layer of ['meta', 'meta-openembedded/meta-oe', 'meta-openembedded/meta-networking', 'meta-openembedded/meta-python', 'meta-phosphor', 'meta-aspeed', 'meta-evb/meta-evb-aspeed/meta-evb-ast2600']) {
      assert.ok(layer in openbmc.layers, `the openbmc repo lists layer ${layer}`);
    }
    const own = kas.repos['meta-virtual-media']!;
    assert.equal(own.url, undefined, 'this repository, no URL');
    for (const layer of Object.keys(own.layers)) assert.ok(existsSync(join(repoRoot, layer, 'conf/layer.conf')), `${layer} is a layer in this repository`);
  });

  it('opts in with the one documented line and nothing else of ours: the recipes find the tarball CI makes by default', () => {
    const conf = Object.values(kas.local_conf_header).join('\n');
    assert.match(conf, /^DISTRO_FEATURES:append = " virtual-media"$/m);
    assert.doesNotMatch(conf, /VIRTUAL_MEDIA_/, 'no release location or other setting of the layer');
  });

  it('the workflow makes the release (into release/), builds the kas file and boots the image it produces', () => {
    const workflow = parse(read(workflowFile)) as {
      jobs: Record<string, { env: Record<string, string>; steps: { run?: string; uses?: string }[] }>;
    };
    const job = workflow.jobs.image!;
    assert.equal(join(repoRoot, job.env.KAS_FILE!), kasFile);
    assert.equal(job.env.IMAGE, `build/tmp/deploy/images/${kas.machine}/${kas.target}-${kas.machine}.static.mtd`);
    const runs = job.steps.map((s) => s.run ?? '').join('\n');
    assert.match(runs, /^\s*npm run release$/m, 'into release/, where the recipes look (release-source.test.ts)');
    assert.match(runs, /kas build "\$KAS_FILE"/);
    assert.match(runs, /qemu-system-arm/);
    assert.match(runs, /python3 meta-virtual-media\/ci\/qemu-boot-check\.py "\$IMAGE"/);
    assert.match(runs, /pip" install "kas>=4\.1"/, 'a kas that reads format 14');
  });

  describe('qemu-boot-check.py (against a scripted qemu-system-arm console)', () => {
    /** A stand-in for qemu-system-arm: checks its arguments, plays a serial console, reports `state`. */
    function fakeQemu(state: string, bus: string): string {
      const bin = join(dir, `bin-${state}-${bus}`);
      mkdirSync(bin, { recursive: true });
      const script = `#!/usr/bin/env python3
import sys
args = sys.argv[1:]
if args[args.index("-M") + 1] != "ast2600-evb" or not any("if=mtd" in a for a in args):
    print("fake qemu: unexpected arguments", args); sys.exit(2)
def out(s):
    sys.stdout.write(s); sys.stdout.flush()
out("U-Boot\\r\\nStarting kernel ...\\r\\nevb-ast2600 login: ")
assert sys.stdin.readline().strip() == "root"
out("Password: ")
assert sys.stdin.readline().strip() == "0penBmc"
out("root@evb-ast2600:~# ")
command = sys.stdin.readline()
out(command.replace("\\n", "\\r\\n"))  # the tty echoes the command line
out("VM-STATE=${state}\\r\\nVM-BUS=${bus}\\r\\n")
out("VM-DONE\\r\\nroot@evb-ast2600:~# ")
sys.stdin.read()
`;
      writeFileSync(join(bin, 'qemu-system-arm'), script);
      chmodSync(join(bin, 'qemu-system-arm'), 0o755);
      return bin;
    }

    async function check(state: string, bus: string): Promise<{ code: number; output: string }> {
      const image = join(dir, 'image.static.mtd');
      writeFileSync(image, '');
      try {
        const { stdout, stderr } = await execFileAsync(python, [bootCheck, image, '--timeout', '30'], {
          env: { ...process.env, PATH: `${fakeQemu(state, bus)}:${process.env.PATH}` },
        });
        return { code: 0, output: stdout + stderr };
      } catch (error) {
        const e = error as { code?: number; stdout?: string; stderr?: string };
        return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
      }
    }

    it('passes when the service is active and owns its name', async () => {
      const result = await check('active', 'owned');
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, /is active and owns xyz\.openbmc_project\.VirtualMedia/);
    });

    it('fails when the service did not start, even though the echoed command line contains the markers', async () => {
      const result = await check('failed', 'missing');
      assert.equal(result.code, 1, result.output);
      assert.match(result.output, /did not start \(state='failed', bus name='missing'\)/);
    });

    it('fails when the service is active but the name has no owner', async () => {
      assert.equal((await check('active', 'missing')).code, 1);
    });
  });
});
