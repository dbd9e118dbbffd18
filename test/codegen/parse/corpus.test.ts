// The whole upstream phosphor-dbus-interfaces tree must load cleanly, and a
// few things in it must come out exactly right.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { loadCorpus, listInterfaces, type LoadResult } from '../../../codegen/src/parse/index.js';
import { formatDiagnostic } from '../../../codegen/src/model.js';
import { corpusRoot } from './helpers.js';

describe('codegen parse: the PDI corpus', function () {
  this.timeout(60_000);
  let result: LoadResult;

  before(function () {
    assert.ok(existsSync(corpusRoot), `the PDI corpus is missing at ${corpusRoot}`);
    // How long this takes is a bench row (bench/codegen.ts), not a test.
    result = loadCorpus({ root: corpusRoot });
  });

  it('loads every interface and errors file with no errors', function () {
    assert.deepEqual(result.diagnostics.map(formatDiagnostic), []);
    assert.equal(result.corpus.interfaces.size, 348);
    assert.equal(result.corpus.errorFiles.size, 39);
    assert.equal(listInterfaces(corpusRoot).length, 348);
  });

  it('warns about exactly the two upstream misspelt keys sdbus++ ignores, and reads them as descriptions', function () {
    const warnings = result.warnings.map((w) => `${w.file.slice(corpusRoot.length + 1)}:${w.line}:${w.column}`);
    assert.deepEqual(warnings, [
      'com/ibm/Dump/Entry/Resource.interface.yaml:80:13',
      'xyz/openbmc_project/Configuration/USBPort.interface.yaml:1:1',
    ]);
    const usb = result.corpus.interfaces.get('xyz.openbmc_project.Configuration.USBPort')!;
    assert.match(usb.description, /entity manager configuration for the usb port/);
  });

  it('reads VirtualMedia.Legacy Mount as (string, boolean, variant[int32, unixfd]) -> boolean', function () {
    const legacy = result.corpus.interfaces.get('xyz.openbmc_project.VirtualMedia.Legacy')!;
    const mount = legacy.methods.find((m) => m.name === 'Mount')!;
    assert.deepEqual(mount.parameters.map((p) => [p.name, p.type]), [
      ['ImageURL', { kind: 'primitive', name: 'string' }],
      ['ReadWrite', { kind: 'primitive', name: 'boolean' }],
      ['FileDescriptor', { kind: 'variant', alternatives: [{ kind: 'primitive', name: 'int32' }, { kind: 'primitive', name: 'unixfd' }] }],
    ]);
    assert.deepEqual(mount.returns.map((r) => r.type), [{ kind: 'primitive', name: 'boolean' }]);
    assert.deepEqual(mount.errors, ['xyz.openbmc_project.Common.Error.InternalFailure']);
    assert.ok(mount.pos.file.endsWith('xyz/openbmc_project/VirtualMedia/Legacy.interface.yaml'));
    assert.equal(mount.pos.line, 6);
  });

  it('resolves a cross-interface enum and its quoted "On" default (YAML 1.1 would read On unquoted as true)', function () {
    const scheduled = result.corpus.interfaces.get('xyz.openbmc_project.State.ScheduledHostTransition')!;
    const prop = scheduled.properties.find((p) => p.name === 'ScheduledTransition')!;
    assert.deepEqual(prop.type, { kind: 'enum', interface: 'xyz.openbmc_project.State.Host', name: 'Transition' });
    assert.deepEqual(prop.default, { kind: 'enum', enumInterface: 'xyz.openbmc_project.State.Host', enumName: 'Transition', value: 'On' });
    const host = result.corpus.interfaces.get('xyz.openbmc_project.State.Host')!;
    assert.ok(host.enumerations.find((e) => e.name === 'Transition')!.values.some((v) => v.name === 'On'));
  });

  it('reads the defaults the corpus uses: specials, 64-bit, boolean 0, brace lists', function () {
    const prop = (iface: string, name: string) =>
      result.corpus.interfaces.get(iface)!.properties.find((p) => p.name === name)!;
    assert.deepEqual(prop('xyz.openbmc_project.Sensor.Value', 'MaxValue').default, { kind: 'special', name: 'Infinity' });
    assert.deepEqual(prop('xyz.openbmc_project.Sensor.Value', 'MinValue').default, { kind: 'special', name: '-Infinity' });
    assert.deepEqual(prop('xyz.openbmc_project.Sensor.Threshold.Warning', 'WarningHigh').default, { kind: 'special', name: 'NaN' });
    assert.deepEqual(prop('xyz.openbmc_project.State.Drive', 'LastRebootTime').default, { kind: 'special', name: 'maxint' });
    assert.deepEqual(prop('xyz.openbmc_project.Control.Security.SPDM.Policy', 'AllowedVersions').default, {
      kind: 'array',
      elements: [{ kind: 'variant', alternative: 1, value: { kind: 'string', value: 'ALL' } }],
    });
    const upower = result.corpus.interfaces.get('org.freedesktop.UPower.Device')!;
    const booleanZero = upower.properties.filter((p) => p.type.kind === 'primitive' && p.type.name === 'boolean' && p.default);
    assert.ok(booleanZero.length > 0);
    for (const p of booleanZero) assert.equal(p.default!.kind, 'boolean');
  });

  it('resolves errors from events files (names without .Error.)', function () {
    const create = result.corpus.interfaces.get('xyz.openbmc_project.Network.Client.Create')!;
    assert.ok(create.methods[0]!.errors.includes('xyz.openbmc_project.Common.ObjectAlreadyExists'));
    const common = result.corpus.eventErrorFiles.get('xyz.openbmc_project.Common')!;
    assert.equal(common.errors.find((e) => e.name === 'ObjectAlreadyExists')!.errno, 'EEXIST');
  });

  it('reads paths (namespace with segments, named), service names and method parameter defaults', function () {
    const metric = result.corpus.interfaces.get('xyz.openbmc_project.Metric.Value')!;
    const namespace = metric.paths.find((p) => p.kind === 'namespace')!;
    assert.equal(namespace.value, '/xyz/openbmc_project/metric');
    assert.ok(namespace.kind === 'namespace' && namespace.segments.some((s) => s.name === 'TotalMemory' && s.value === 'memory/total'));
    const bmc = metric.paths.find((p) => p.kind === 'named' && p.name === 'BMC');
    assert.deepEqual(bmc && { kind: bmc.kind, value: bmc.value }, { kind: 'named', value: '/xyz/openbmc_project/metric/bmc' });
    const mapper = result.corpus.interfaces.get('xyz.openbmc_project.ObjectMapper')!;
    assert.deepEqual(mapper.serviceNames, [{ kind: 'default', value: 'xyz.openbmc_project.ObjectMapper', description: '' }]);
    const notify = result.corpus.interfaces.get('com.ibm.Dump.Notify')!;
    const token = notify.methods[0]!.parameters.find((p) => p.name === 'Token')!;
    assert.deepEqual(token.default, { kind: 'integer', value: 0n });
  });

  it('loads a chosen interface plus, transitively, the interfaces its enums come from', function () {
    const partial = loadCorpus({ root: corpusRoot, interfaces: ['xyz.openbmc_project.State.ScheduledHostTransition'] });
    assert.deepEqual(partial.diagnostics, []);
    assert.deepEqual([...partial.corpus.interfaces.keys()], ['xyz.openbmc_project.State.Host', 'xyz.openbmc_project.State.ScheduledHostTransition']);
    assert.equal(partial.corpus.errorFiles.size, 39);
  });
});
