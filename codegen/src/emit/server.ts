// server.ts of an interface: a class the implementer extends. Properties are
// typed accessors (setting one announces the change), methods are abstract
// typed handlers, signals are typed emit functions.
import { Scope, StructureKind, type ClassDeclarationStructure, type MethodDeclarationStructure, type StatementStructures } from 'ts-morph';
import type { InterfaceDef } from '../model.js';
import { docText, ForeignEnums, GENERATED_BANNER, type EmitOptions } from './context.js';
import { moduleFile, parameterName, shortName } from './layout.js';
import { printFile } from './printer.js';
import { tsType } from './type-mapping.js';
import { argDocs, bindingImports, checkMemberNames, resultType } from './members.js';

export function emitServer(iface: InterfaceDef, options: EmitOptions): string {
  const file = moduleFile(iface.name, 'server');
  const enums = new ForeignEnums(iface.name, file);
  const short = shortName(iface.name);
  const cls = `${short}Server`;
  checkMemberNames(iface, 'server');
  const type = (t: Parameters<typeof tsType>[0]) => tsType(t, options.abi, enums);

  const members: ClassDeclarationStructure = {
    kind: StructureKind.Class,
    name: cls,
    isExported: true,
    isAbstract: iface.methods.length > 0,
    extends: `rt.ServerInterface<${short}Properties>`,
    docs: [
      `Server side of ${iface.name}. Extend it${iface.methods.length ? ', implement the methods' : ''} and export an instance with rt.ObjectServer.`,
    ],
    properties: [{ name: 'interfaceName', isStatic: true, isReadonly: true, initializer: 'interfaceName' }],
    ctors: [
      {
        parameters: [{ name: 'options', type: `rt.ServerOptions<${short}Properties>`, initializer: '{}' }],
        statements: [`super(${short}Spec, options);`],
      },
    ],
    getAccessors: iface.properties.map((p) => ({
      name: p.name,
      returnType: type(p.type),
      docs: [docText(p.description) || p.name],
      statements: [`return this.getProperty('${p.name}');`],
    })),
    setAccessors: iface.properties.map((p) => ({
      name: p.name,
      parameters: [{ name: 'value', type: type(p.type) }],
      statements: [`this.setProperty('${p.name}', value);`],
    })),
    methods: [
      ...iface.methods.map(
        (m): MethodDeclarationStructure => ({
          kind: StructureKind.Method,
          name: m.name,
          isAbstract: true,
          docs: [[docText(m.description), ...argDocs(m.parameters), '@param context - the caller and message.', ...m.errors.map((e) => `@throws ${e}`)].filter(Boolean).join('\n')],
          parameters: [
            ...m.parameters.map((a) => ({ name: parameterName(a.name), type: type(a.type) })),
            { name: 'context', type: 'rt.CallContext' },
          ],
          returnType: `${resultType(m.returns, type)} | Promise<${resultType(m.returns, type)}>`,
        }),
      ),
      ...iface.signals.map(
        (s): MethodDeclarationStructure => ({
          kind: StructureKind.Method,
          name: `emit${s.name}`,
          scope: Scope.Public,
          docs: [[`Emits ${s.name}: ${docText(s.description)}`, ...argDocs(s.properties)].join('\n')],
          parameters: s.properties.map((a) => ({ name: parameterName(a.name), type: type(a.type) })),
          returnType: 'void',
          statements: [`this.emitSignal('${s.name}', [${s.properties.map((a) => parameterName(a.name)).join(', ')}]);`],
        }),
      ),
    ],
  };

  const statements: (string | StatementStructures)[] = [members, `rt.configureServer(${cls}, ${short}Spec);`];
  return printFile(file, {
    banner: GENERATED_BANNER(`${iface.name.split('.').join('/')}.interface.yaml`),
    imports: [
      ...bindingImports(iface, enums, options, file),
    ],
    statements,
  });
}
