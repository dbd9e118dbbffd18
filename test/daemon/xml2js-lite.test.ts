// The bundle's stand-in for xml2js' Builder must write exactly what xml2js
// writes for the objects dbus-next builds (Introspect replies): checked on
// the real introspection data of the five interfaces and on random trees.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { introspectionOf } from '../../codegen/runtime/introspection.js';
import { Builder } from '../../daemon/build/xml2js-lite.js';
import { LegacySpec } from '../../bindings/xyz/openbmc_project/VirtualMedia/Legacy/common.js';
import { MountPointSpec } from '../../bindings/xyz/openbmc_project/VirtualMedia/MountPoint/common.js';
import { ProcessSpec } from '../../bindings/xyz/openbmc_project/VirtualMedia/Process/common.js';
import { ProxySpec } from '../../bindings/xyz/openbmc_project/VirtualMedia/Proxy/common.js';
import { StatsSpec } from '../../bindings/xyz/openbmc_project/VirtualMedia/Stats/common.js';

// xml2js ships no types; only Builder is used here.
const xml2js = createRequire(import.meta.url)('xml2js') as { Builder: new (o: { headless: boolean }) => { buildObject(o: unknown): string } };
const real = new xml2js.Builder({ headless: true });
const lite = new Builder({ headless: true });

describe('daemon bundle: xml2js stand-in', () => {
  it('writes the same Introspect XML as xml2js for the VirtualMedia interfaces', () => {
    const node = {
      node: {
        node: [{ $: { name: 'Slot_0' } }, { $: { name: 'Slot_1' } }],
        interface: [LegacySpec, MountPointSpec, ProcessSpec, ProxySpec, StatsSpec].map((s) => introspectionOf(s)),
      },
    };
    assert.equal(lite.buildObject(node), real.buildObject(node));
    assert.equal(lite.buildObject({ node: { node: [] } }), real.buildObject({ node: { node: [] } }));
  });

  it('matches xml2js on random element trees with attributes and text', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/);
    const text = fc.string({ maxLength: 12 }).filter((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/.test(s));
    const attrs = fc.dictionary(name, text, { maxKeys: 3 });
    const tree: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      element: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.record({ $: attrs }),
        fc.tuple(attrs, fc.dictionary(name, fc.oneof(tie('element'), fc.array(tie('element'), { maxLength: 3 })), { maxKeys: 3 })).map(([a, children]) => ({ $: a, ...children })),
      ),
    })).element;
    fc.assert(
      fc.property(name, tree, (rootName, value) => {
        const root = { [rootName]: value };
        assert.equal(lite.buildObject(root), real.buildObject(root));
      }),
      { numRuns: 1000 },
    );
  });
});
