#!/usr/bin/env node
// Launcher for virtual-media-serve: the compiled CLI when the package is
// built (npm run build), otherwise the TypeScript source through tsx.
import { existsSync } from 'node:fs';

const compiled = new URL('../../dist/nbd/cli/main.js', import.meta.url);
let cli;
if (existsSync(compiled)) {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../cli/main.ts', import.meta.url).href);
}
process.exitCode = await cli.main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  input: process.stdin,
  output: process.stderr,
  env: process.env,
  signals: process,
});
