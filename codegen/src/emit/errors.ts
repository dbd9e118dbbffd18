// error.ts of an errors file: one typed DBusError class per error, registered
// so clients receive the declared class (instanceof works across the bus).
import { StructureKind, type StatementStructures } from 'ts-morph';
import type { ErrorsFileDef } from '../model.js';
import { docText, GENERATED_BANNER, runtimeImportFor, type EmitOptions } from './context.js';
import { identifier, moduleFile } from './layout.js';
import { printFile } from './printer.js';

export function emitErrors(errors: ErrorsFileDef, options: EmitOptions): string {
  const file = moduleFile(errors.namespace, 'error');
  const classes: StatementStructures[] = errors.errors.map((e) => ({
    kind: StructureKind.Class,
    name: identifier(e.name),
    isExported: true,
    extends: 'rt.TypedDBusError',
    docs: [docText(e.description) || e.fullName],
    properties: [
      { name: 'errorName', isStatic: true, isReadonly: true, hasOverrideKeyword: true, initializer: `'${e.fullName}'` },
      { name: 'description', isStatic: true, isReadonly: true, hasOverrideKeyword: true, initializer: JSON.stringify(docText(e.description).replace(/\s+/g, ' ')) },
    ],
  }));
  const names = errors.errors.map((e) => identifier(e.name));
  return printFile(file, {
    banner: GENERATED_BANNER(`${errors.namespace.split('.').join('/')}.errors.yaml`),
    imports: [{ namespace: 'rt', specifier: runtimeImportFor(options, file) }],
    statements: [...classes, ...(names.length ? [`rt.registerErrors(${names.join(', ')});`] : [])],
  });
}
