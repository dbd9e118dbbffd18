// pdi-tsgen as a library: the same generation the command line does, for
// build scripts that want it in-process.
export { generate, referencedErrorModules, DEFAULT_RUNTIME, type GenerateOptions, type GenerateResult, type GeneratedFile } from './generate.js';
export { writeOutput, checkOutput, generatedModules, isGenerated, ForeignFileError, type OutputDirs, type OutputOptions } from './output.js';
export { loadCorpus, listInterfaces } from './parse/index.js';
export { formatDiagnostic, type Diagnostic } from './model.js';
export type { RuntimeImport } from './emit/layout.js';
export type { Abi } from './emit/type-mapping.js';
