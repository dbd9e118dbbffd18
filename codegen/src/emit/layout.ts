// Where generated files go and how they refer to each other. Mirrors
// sdbus++: interface a.b.C lives in a/b/C/{common,server,client}.ts, the
// errors of namespace a.b.C in a/b/C/error.ts.
import { posix } from 'node:path';

export type ModuleKind = 'common' | 'server' | 'client' | 'error';

export function moduleFile(name: string, kind: ModuleKind): string {
  return `${name.split('.').join('/')}/${kind}.ts`;
}

/** Import specifier from one generated file to another (ESM, `.js` extension). */
export function relativeImport(fromFile: string, toFile: string): string {
  let rel = posix.relative(posix.dirname(fromFile), toFile).replace(/\.ts$/, '.js');
  if (!rel.startsWith('.')) rel = `./${rel}`;
  return rel;
}

/**
 * How generated files import the runtime: a bare package specifier
 * (`openbmc-dbus-runtime`) is used as is; a path (`./codegen/runtime/index.js`,
 * relative to the output root's parent or absolute) becomes a relative import.
 */
export type RuntimeImport =
  | { specifier: string }
  /** The runtime's entry file and the output root, both absolute: imports become relative paths. */
  | { entry: string; outputRoot: string };

export function runtimeSpecifier(runtime: RuntimeImport, fromFile: string): string {
  if ('specifier' in runtime) return runtime.specifier;
  let rel = posix.relative(posix.dirname(posix.join(runtime.outputRoot, fromFile)), runtime.entry).replace(/\.ts$/, '.js');
  if (!rel.startsWith('.')) rel = `./${rel}`;
  return rel;
}

/** The last segment of a dotted name: `xyz.openbmc_project.VirtualMedia.Legacy` → `Legacy`. */
export function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

const RESERVED = new Set(
  'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await any boolean number string symbol object bigint never unknown undefined Error Map Set Promise Object Array String Number Boolean Symbol Function Date RegExp JSON Math'.split(
    ' ',
  ),
);

/** A safe TypeScript identifier for a YAML name (which is already [A-Za-z_][A-Za-z0-9_]*). */
export function identifier(name: string): string {
  return RESERVED.has(name) ? `${name}_` : name;
}

/** camelCase of a PascalCase member name, for parameter names: `ImageURL` → `imageURL`. */
export function parameterName(name: string): string {
  const lowered = name.replace(/^[A-Z]+(?=[A-Z][a-z]|$)|^[A-Z]/, (m) => m.toLowerCase());
  // `options`, `context` and `handler` are the generated trailing parameters.
  return ['options', 'context', 'handler'].includes(lowered) ? `${lowered}_` : identifier(lowered);
}
