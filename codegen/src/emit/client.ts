// client.ts of an interface: a typed proxy. Methods are typed async calls
// with an optional timeout, signals typed subscriptions; property access
// (get/set/getAll/onPropertiesChanged) comes typed from the base class.
import { StructureKind, type ClassDeclarationStructure, type ConstructorDeclarationStructure, type MethodDeclarationStructure, type StatementStructures } from 'ts-morph';
import { receivedNamer } from './common.js';
import type { InterfaceDef } from '../model.js';
import { docText, ForeignEnums, GENERATED_BANNER, type EmitOptions } from './context.js';
import { moduleFile, parameterName, relativeImport, shortName } from './layout.js';
import { printFile } from './printer.js';
import { tsType } from './type-mapping.js';
import { argDocs, bindingImports, checkMemberNames, resultType } from './members.js';

/** The errors module that defines a fully qualified error name `a.b.C.Error.X`. */
function errorModule(errorName: string): string {
  return errorName.slice(0, errorName.lastIndexOf('.Error.'));
}

/**
 * The client's constructor: (connection, service, path) always; with a
 * default service in the YAML also (connection, path); with a default
 * service and one fixed instance path also (connection). A bus name never
 * starts with '/', an object path always does, so the forms cannot be confused.
 */
function constructorOf(short: string, hasDefaultService: boolean, hasInstancePath: boolean): ConstructorDeclarationStructure {
  const full = { parameters: [{ name: 'connection', type: 'rt.Connection' }, { name: 'service', type: 'string' }, { name: 'path', type: 'string' }] };
  if (!hasDefaultService) return { kind: StructureKind.Constructor, ...full, statements: [`super(${short}Spec, connection, service, path);`] };
  const overloads = [
    ...(hasInstancePath ? [{ parameters: [{ name: 'connection', type: 'rt.Connection' }], docs: ['The object at the YAML\'s instance path, on the YAML\'s default service.'] }] : []),
    { parameters: [{ name: 'connection', type: 'rt.Connection' }, { name: 'path', type: 'string' }], docs: ['An object of the YAML\'s default service.'] },
    { ...full, docs: ['An object of any service.'] },
  ];
  return {
    kind: StructureKind.Constructor,
    overloads,
    parameters: [
      { name: 'connection', type: 'rt.Connection' },
      { name: 'serviceOrPath', type: 'string', hasQuestionToken: hasInstancePath },
      { name: 'path', type: 'string', hasQuestionToken: true },
    ],
    statements: [
      superCall(short, hasInstancePath),
    ],
  };
}

function superCall(short: string, hasInstancePath: boolean): string {
  const fallbackPath = hasInstancePath ? 'serviceOrPath ?? instancePath' : 'serviceOrPath';
  return `super(${short}Spec, connection, path === undefined ? defaultService : serviceOrPath!, path ?? ${fallbackPath});`;
}

export function emitClient(iface: InterfaceDef, options: EmitOptions, knownErrorModules: ReadonlySet<string>): string {
  const file = moduleFile(iface.name, 'client');
  const enums = new ForeignEnums(iface.name, file);
  const short = shortName(iface.name);
  checkMemberNames(iface, 'client');
  const type = (t: Parameters<typeof tsType>[0]) => tsType(t, options.abi, enums);
  // What the client receives (replies, signals) may hold enum values a newer service added.
  const receivedType = (t: Parameters<typeof tsType>[0]) => tsType(t, options.abi, receivedNamer(enums));
  const defaultService = iface.serviceNames.find((s) => s.kind === 'default')?.value;
  const instances = iface.paths.filter((p) => p.kind === 'instance');
  const instancePath = instances.length === 1 ? instances[0]!.value : undefined;

  const cls: ClassDeclarationStructure = {
    kind: StructureKind.Class,
    name: `${short}Client`,
    isExported: true,
    extends: `rt.ClientInterface<${short}Properties, ${short}ReceivedProperties, ${short}WritableProperty>`,
    docs: [`Client side of ${iface.name}: typed calls, properties and signals of one object of one service.`],
    properties: [
      { name: 'interfaceName', isStatic: true, isReadonly: true, initializer: 'interfaceName' },
      ...(defaultService ? [{ name: 'defaultService', isStatic: true, isReadonly: true, initializer: 'defaultService', docs: ['The bus name the YAML declares for this interface.'] }] : []),
    ],
    ctors: [constructorOf(short, defaultService !== undefined, instancePath !== undefined)],
    methods: [
      ...iface.methods.map((m): MethodDeclarationStructure => {
        const result = resultType(m.returns, receivedType);
        return {
          kind: StructureKind.Method,
          name: m.name,
          docs: [[docText(m.description), ...argDocs(m.parameters), '@param options - per-call options (timeout).', ...m.errors.map((e) => `@throws ${e}`)].filter(Boolean).join('\n')],
          parameters: [...m.parameters.map((a) => ({ name: parameterName(a.name), type: type(a.type) })), { name: 'options', type: 'rt.CallOptions', hasQuestionToken: true }],
          returnType: `Promise<${result}>`,
          statements: [`return this.callMethod('${m.name}', [${m.parameters.map((a) => parameterName(a.name)).join(', ')}], options) as Promise<${result}>;`],
        };
      }),
      ...iface.signals.map(
        (s): MethodDeclarationStructure => ({
          kind: StructureKind.Method,
          name: `on${s.name}`,
          docs: [[`Subscribes to ${s.name}: ${docText(s.description)}`, ...argDocs(s.properties), '@returns a subscription; call unsubscribe() to stop.'].join('\n')],
          parameters: [{ name: 'handler', type: `(${s.properties.map((a) => `${parameterName(a.name)}: ${receivedType(a.type)}`).join(', ')}) => void` }],
          returnType: 'Promise<rt.Subscription>',
          statements: [`return this.subscribeSignal('${s.name}', handler);`],
        }),
      ),
    ],
  };

  const errorImports = [...new Set([...iface.methods.flatMap((m) => m.errors), ...iface.properties.flatMap((p) => p.errors)].map(errorModule))]
    .filter((m) => knownErrorModules.has(m))
    .sort()
    .map((m) => ({ sideEffect: true, specifier: relativeImport(file, moduleFile(m, 'error')) }));

  const statements: (string | StatementStructures)[] = [cls];
  return printFile(file, {
    banner: GENERATED_BANNER(`${iface.name.split('.').join('/')}.interface.yaml`),
    imports: [
      ...bindingImports(iface, enums, options, file, [
        `type ${short}ReceivedProperties`,
        `type ${short}WritableProperty`,
        ...(defaultService ? ['defaultService'] : []),
        ...(instancePath ? ['instancePath'] : []),
      ]),
      ...errorImports,
    ],
    statements,
  });
}
