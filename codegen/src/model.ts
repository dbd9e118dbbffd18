// The parsed, validated form of a PDI YAML tree: what the parser produces and
// every emitter consumes. Names are D-Bus names exactly as written in the
// YAML; positions point back into the YAML so later stages can still report
// errors with file, line and column.

/** Where something was written: 1-based line and column. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

export type PrimitiveName =
  | 'byte'
  | 'boolean'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'double'
  | 'unixfd'
  | 'string'
  | 'object_path'
  | 'signature'
  | 'size'
  | 'ssize';

/** A PDI type expression, e.g. `dict[string, variant[int64, enum[self.Unit]]]`. */
export type TypeNode =
  | { kind: 'primitive'; name: PrimitiveName }
  | { kind: 'array'; element: TypeNode }
  | { kind: 'set'; element: TypeNode }
  | { kind: 'dict'; key: TypeNode; value: TypeNode }
  | { kind: 'struct'; members: TypeNode[] }
  | { kind: 'variant'; alternatives: TypeNode[] }
  /** Resolved enum reference: `enum[self.X]` in a.b.C becomes {interface: 'a.b.C', name: 'X'}. */
  | { kind: 'enum'; interface: string; name: string };

export interface EnumValue {
  name: string;
  description: string;
  pos: SourcePos;
}

export interface EnumDef {
  name: string;
  description: string;
  values: EnumValue[];
  pos: SourcePos;
}

/** A method parameter, method return, or signal argument. */
export interface Arg {
  name: string;
  type: TypeNode;
  /** The type as written in the YAML, for docs. */
  typeText: string;
  description: string;
  /** Method parameters only: the default sdbus++ gives the C++ parameter. */
  default?: DefaultValue;
  pos: SourcePos;
}

export type MethodFlag = 'deprecated' | 'hidden' | 'unprivileged' | 'no_reply';

export interface MethodDef {
  name: string;
  description: string;
  parameters: Arg[];
  returns: Arg[];
  /** Fully qualified error names, `self.Error.X` already resolved. */
  errors: string[];
  flags: MethodFlag[];
  pos: SourcePos;
}

export type PropertyFlag =
  | 'const'
  | 'readonly'
  | 'emits_change'
  | 'emits_invalidation'
  | 'explicit'
  | 'deprecated'
  | 'hidden'
  | 'unprivileged';

/**
 * A property default. Special names are kept symbolic so each emitter can
 * spell them for its target (sdbus++ accepts them for numeric types).
 */
export type DefaultValue =
  | { kind: 'boolean'; value: boolean }
  /** Integers of any width, exact. */
  | { kind: 'integer'; value: bigint }
  | { kind: 'double'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'special'; name: 'NaN' | 'Infinity' | '-Infinity' | 'Epsilon' | 'maxint' | 'minint' }
  /** An enum default: the bare value name, checked against the property's enum. */
  | { kind: 'enum'; enumInterface: string; enumName: string; value: string }
  /** array/set defaults, written in the YAML as a C++ brace list such as '{"ALL"}'. */
  | { kind: 'array'; elements: DefaultValue[] }
  /** A value of a variant type: `alternative` indexes the variant's alternatives. */
  | { kind: 'variant'; alternative: number; value: DefaultValue };

export interface PropertyDef {
  name: string;
  type: TypeNode;
  typeText: string;
  description: string;
  default?: DefaultValue;
  flags: PropertyFlag[];
  errors: string[];
  pos: SourcePos;
}

export interface SignalDef {
  name: string;
  description: string;
  properties: Arg[];
  flags: MethodFlag[];
  pos: SourcePos;
}

/** `paths:` entries: a fixed instance path, or a namespace with optional named segments. */
export type PathDef =
  | { kind: 'instance'; value: string; description: string }
  | { kind: 'namespace'; value: string; description: string; segments: { name: string; value: string; description: string }[] }
  /** `- name: BMC` / `value: /xyz/...`: a named path (Metric.Value uses these). */
  | { kind: 'named'; name: string; value: string; description: string; segments: { name: string; value: string; description: string }[] };

export interface ServiceNameDef {
  /** `default` or another key as written. */
  kind: string;
  value: string;
  description: string;
}

export interface InterfaceDef {
  /** e.g. `xyz.openbmc_project.VirtualMedia.Process` */
  name: string;
  file: string;
  description: string;
  methods: MethodDef[];
  properties: PropertyDef[];
  signals: SignalDef[];
  enumerations: EnumDef[];
  paths: PathDef[];
  serviceNames: ServiceNameDef[];
}

export interface ErrorDef {
  /** Short name, e.g. `InternalFailure`. */
  name: string;
  /** Full D-Bus error name, e.g. `xyz.openbmc_project.Common.Error.InternalFailure`. */
  fullName: string;
  description: string;
  /** errno symbol (`EEXIST`) when the file gives one. */
  errno?: string;
  pos: SourcePos;
}

export interface ErrorsFileDef {
  /** The namespace the errors live in, e.g. `xyz.openbmc_project.Common` (file Common.errors.yaml). */
  namespace: string;
  file: string;
  errors: ErrorDef[];
}

/** Everything read from one YAML root. */
export interface Corpus {
  root: string;
  interfaces: Map<string, InterfaceDef>;
  errorFiles: Map<string, ErrorsFileDef>;
  /**
   * Errors declared in `*.events.yaml` (`errors:` list), keyed by namespace.
   * Their D-Bus names have no `.Error.`: `xyz.openbmc_project.Common.ObjectAlreadyExists`.
   */
  eventErrorFiles: Map<string, ErrorsFileDef>;
}

/** A problem found in the input, with where it is. */
export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.message}`;
}
