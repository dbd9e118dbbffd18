// common.ts of an interface: its name, member-name constants, enums with
// their wire-string codecs, the typed property record and the runtime spec
// shared by the server and the client.
import { StructureKind, VariableDeclarationKind, type StatementStructures, type WriterFunction } from 'ts-morph';
import type { Arg, Corpus, DefaultValue, InterfaceDef, PropertyDef, TypeNode } from '../model.js';
import { allTypes, docText, enumsIn, findEnum, ForeignEnums, GENERATED_BANNER, runtimeImportFor, type EmitOptions } from './context.js';
import { moduleFile, shortName } from './layout.js';
import { printFile } from './printer.js';
import { codecExpression, integerLimits, isBigIntType, tsType, variantTags, zeroValue, type Abi, type EnumNamer } from './type-mapping.js';

export function emitCommon(iface: InterfaceDef, corpus: Corpus, options: EmitOptions): string {
  const file = moduleFile(iface.name, 'common');
  const enums = new ForeignEnums(iface.name, file);
  const short = shortName(iface.name);
  // Resolve every type first so the foreign-enum imports are known.
  allTypes(iface).forEach((t) => enumsIn(t).forEach((e) => enums.typeName(e.interface, e.name)));

  const statements: (string | WriterFunction | StatementStructures)[] = [];
  statements.push(
    constant('interfaceName', `'${iface.name}'`, 'The D-Bus interface name.'),
    constant(
      'PropertyNames',
      names(iface.properties),
      'Property names, as on the bus.',
    ),
    constant('MethodNames', names(iface.methods), 'Method names, as on the bus.'),
    constant('SignalNames', names(iface.signals), 'Signal names, as on the bus.'),
  );

  for (const e of iface.enumerations) {
    const values = e.values.map((v) => v.name);
    statements.push((w) => {
      w.writeLine(`/** ${docText(e.description) || `The ${e.name} enumeration.`} */`);
      w.writeLine(`export const ${e.name} = {`);
      w.indent(() => {
        for (const v of e.values) {
          if (v.description.trim()) w.writeLine(`/** ${docText(v.description).replace(/\n/g, ' ')} */`);
          w.writeLine(`${v.name}: '${v.name}',`);
        }
      });
      w.writeLine('} as const;');
    });
    statements.push(`export type ${e.name} = (typeof ${e.name})[keyof typeof ${e.name}];`);
    statements.push(
      constant(
        `${e.name}Codec`,
        `rt.enumeration<${e.name}>('${iface.name}.${e.name}', [${values.map((v) => `'${v}'`).join(', ')}])`,
        `Converts ${e.name} to and from its D-Bus string, \`${iface.name}.${e.name}.<Value>\`; an unknown string is the error xyz.openbmc_project.sdbusplus.Error.InvalidEnumString.`,
      ),
    );
  }

  statements.push({
    kind: StructureKind.Interface,
    isExported: true,
    name: `${short}Properties`,
    docs: [`Typed values of the ${iface.name} properties.`],
    properties: iface.properties.map((p) => ({
      name: p.name,
      type: tsType(p.type, options.abi, enums),
      docs: [docText(p.description) || p.name],
    })),
  } as StatementStructures);

  const received = receivedNamer(enums);
  if (iface.properties.some((p) => enumsIn(p.type).length > 0)) {
    statements.push({
      kind: StructureKind.Interface,
      isExported: true,
      name: `${short}ReceivedProperties`,
      docs: [`The ${iface.name} properties as a client receives them: an enum value this YAML does not know (a newer service) arrives as rt.UnknownEnumValue.`],
      properties: iface.properties.map((p) => ({ name: p.name, type: tsType(p.type, options.abi, received), docs: [docText(p.description) || p.name] })),
    } as StatementStructures);
  } else {
    statements.push(`/** The ${iface.name} properties as a client receives them (no enums: the same types). */\nexport type ${short}ReceivedProperties = ${short}Properties;`);
  }
  const writable = iface.properties.filter((p) => !p.flags.includes('const') && !p.flags.includes('readonly'));
  statements.push(
    `/** Properties a client may Set (neither const nor readonly in the YAML). */\nexport type ${short}WritableProperty = ${writable.length ? writable.map((p) => `'${p.name}'`).join(' | ') : 'never'};`,
  );
  statements.push(...serviceAndPaths(iface));

  statements.push(
    (w) => {
      w.writeLine(`/** Runtime description of ${iface.name}: signatures, flags and codecs. */`);
      w.write(`export const ${short}Spec: rt.InterfaceSpec = `);
      specWriter(iface, corpus, options.abi, enums)(w);
      w.write(';').newLine();
    },
  );

  return printFile(file, {
    banner: GENERATED_BANNER(`${iface.name.split('.').join('/')}.interface.yaml`),
    description: docText(iface.description),
    imports: [{ namespace: 'rt', specifier: runtimeImportFor(options, file) }, ...enums.imports().map((i) => ({ namespace: i.alias, specifier: i.specifier }))],
    statements,
  });
}

/** Names enum types as a client receives them: the known values or rt.UnknownEnumValue. */
export function receivedNamer(enums: EnumNamer): EnumNamer {
  return {
    typeName: (i, n) => `${enums.typeName(i, n)} | rt.UnknownEnumValue`,
    codecName: (i, n) => enums.codecName(i, n),
  };
}

/** The YAML's `service_names:` and `paths:` as constants (only when it has them). */
function serviceAndPaths(iface: InterfaceDef): StatementStructures[] {
  const out: StatementStructures[] = [];
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : q(k));
  if (iface.serviceNames.length) {
    out.push(constant('serviceNames', `{ ${iface.serviceNames.map((n) => `${key(n.kind)}: ${q(n.value)}`).join(', ')} } as const`, 'Bus names the YAML declares for services implementing this interface (`service_names:`).'));
    const fallback = iface.serviceNames.find((n) => n.kind === 'default');
    if (fallback) out.push(constant('defaultService', q(fallback.value), 'The default bus name (`service_names: - default:`); clients use it when given no service.'));
  }
  if (iface.paths.length) {
    const entry = (p: InterfaceDef['paths'][number]) => {
      const fields = [`kind: '${p.kind}'`, ...(p.kind === 'named' ? [`name: ${q(p.name)}`] : []), `value: ${q(p.value)}`];
      if (p.kind !== 'instance' && p.segments.length) fields.push(`segments: { ${p.segments.map((g) => `${key(g.name)}: ${q(g.value)}`).join(', ')} }`);
      return `{ ${fields.join(', ')} }`;
    };
    out.push(constant('paths', `[${iface.paths.map(entry).join(', ')}] as const`, 'Object paths the YAML declares (`paths:`): fixed instances, or namespaces with named segments below them.'));
    const instances = iface.paths.filter((p) => p.kind === 'instance');
    if (instances.length === 1) out.push(constant('instancePath', q(instances[0]!.value), 'The one fixed object path the YAML declares; clients use it when given no path.'));
  }
  return out;
}

function names(members: readonly { name: string }[]): string {
  return members.length ? `{ ${members.map((m) => `${m.name}: '${m.name}'`).join(', ')} } as const` : '{} as const';
}

function constant(name: string, initializer: string | WriterFunction, doc: string, type?: string): StatementStructures {
  return {
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: [doc],
    declarations: [{ name, initializer, ...(type ? { type } : {}) }],
  } as StatementStructures;
}

function argList(args: readonly Arg[], abi: Abi, enums: ForeignEnums): string {
  return `[${args.map((a) => `{ name: '${a.name}', codec: ${codecExpression(a.type, abi, enums)} }`).join(', ')}]`;
}

/**
 * As sdbus++: a property announces changes by default only when it has no
 * flags or only `readonly`; any other flag replaces that default, so e.g. a
 * property flagged only `deprecated` is EmitsChangedSignal=false.
 */
export function emitsOf(p: PropertyDef): 'const' | 'invalidates' | 'true' | 'false' {
  if (p.flags.includes('const')) return 'const';
  if (p.flags.includes('emits_invalidation')) return 'invalidates';
  if (p.flags.includes('emits_change')) return 'true';
  return p.flags.every((f) => f === 'readonly') ? 'true' : 'false';
}

function specWriter(iface: InterfaceDef, corpus: Corpus, abi: Abi, enums: ForeignEnums): WriterFunction {
  const list = (xs: readonly string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;
  return (w) => {
    w.write('{').newLine();
    w.indent(() => {
      w.writeLine(`name: interfaceName,`);
      w.writeLine('methods: [');
      w.indent(() => {
        for (const m of iface.methods) {
          w.writeLine('{');
          w.indent(() => {
            w.writeLine(`name: '${m.name}',`);
            w.writeLine(`inArgs: ${argList(m.parameters, abi, enums)},`);
            w.writeLine(`outArgs: ${argList(m.returns, abi, enums)},`);
            w.writeLine(`errors: ${list(m.errors)},`);
            w.writeLine(
              `noReply: ${m.flags.includes('no_reply')}, deprecated: ${m.flags.includes('deprecated')}, hidden: ${m.flags.includes('hidden')}, unprivileged: ${m.flags.includes('unprivileged')},`,
            );
          });
          w.writeLine('},');
        }
      });
      w.writeLine('],');
      w.writeLine('properties: [');
      w.indent(() => {
        for (const p of iface.properties) {
          const writable = !p.flags.includes('const') && !p.flags.includes('readonly');
          w.writeLine('{');
          w.indent(() => {
            w.writeLine(`name: '${p.name}',`);
            w.writeLine(`codec: ${codecExpression(p.type, abi, enums)},`);
            w.writeLine(`writable: ${writable}, emits: '${emitsOf(p)}', explicit: ${p.flags.includes('explicit')},`);
            w.writeLine(
              `deprecated: ${p.flags.includes('deprecated')}, hidden: ${p.flags.includes('hidden')}, unprivileged: ${p.flags.includes('unprivileged')},`,
            );
            w.writeLine(`errors: ${list(p.errors)},`);
            w.writeLine(`initial: () => ${initialValue(p, corpus, abi)},`);
          });
          w.writeLine('},');
        }
      });
      w.writeLine('],');
      w.writeLine('signals: [');
      w.indent(() => {
        for (const s of iface.signals) {
          w.writeLine(
            `{ name: '${s.name}', args: ${argList(s.properties, abi, enums)}, deprecated: ${s.flags.includes('deprecated')}, hidden: ${s.flags.includes('hidden')} },`,
          );
        }
      });
      w.writeLine('],');
    });
    w.write('}');
  };
}

function initialValue(p: PropertyDef, corpus: Corpus, abi: Abi): string {
  const firstValue = (i: string, n: string) => findEnum(corpus, i, n).values[0]?.name ?? '';
  return p.default ? defaultLiteral(p.type, p.default, abi) : zeroValue(p.type, abi, firstValue);
}

/** A YAML default as a TypeScript literal of type `t`. */
export function defaultLiteral(t: TypeNode, d: DefaultValue, abi: Abi): string {
  const big = isBigIntType(t, abi);
  const limits = integerLimits(t, abi);
  switch (d.kind) {
    case 'boolean':
      return String(d.value);
    case 'integer':
      return big ? `${d.value}n` : String(d.value);
    case 'double':
      return Number.isInteger(d.value) && big ? `${d.value}n` : String(d.value);
    case 'string':
      return JSON.stringify(d.value);
    case 'enum':
      return `'${d.value}'`;
    case 'array': {
      const element = t.kind === 'array' || t.kind === 'set' ? t.element : t;
      const items = d.elements.map((e) => defaultLiteral(element, e, abi)).join(', ');
      return t.kind === 'set' ? `new Set([${items}])` : `[${items}]`;
    }
    case 'variant': {
      if (t.kind !== 'variant') return defaultLiteral(t, d.value, abi);
      const [tag, alt] = variantTags(t.alternatives, abi)[d.alternative]!;
      return `{ type: '${tag}', value: ${defaultLiteral(alt, d.value, abi)} }`;
    }
    case 'special':
      return specialLiteral(d.name, big, limits);
  }
}

function specialLiteral(name: 'NaN' | 'Infinity' | '-Infinity' | 'Epsilon' | 'maxint' | 'minint', big: boolean, limits: { min: bigint; max: bigint } | undefined): string {
  switch (name) {
    case 'NaN':
      return 'Number.NaN';
    case 'Infinity':
      return 'Number.POSITIVE_INFINITY';
    case '-Infinity':
      return 'Number.NEGATIVE_INFINITY';
    case 'Epsilon':
      return 'Number.EPSILON';
    case 'maxint':
      if (limits) return big ? `${limits.max}n` : String(limits.max);
      return 'Number.MAX_VALUE';
    case 'minint':
      if (limits) return big ? `${limits.min}n` : String(limits.min);
      // numeric_limits<double>::min(), as sdbus++ emits it
      return '2.2250738585072014e-308';
  }
}
