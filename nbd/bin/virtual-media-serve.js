#!/usr/bin/env node
// Launcher for virtual-media-serve. In this repository it runs the
// TypeScript source through tsx; the npm package (scripts/packages/
// serve-package.ts) ships no sources, only the compiled dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../cli/main.ts', import.meta.url);
let cli;
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
process.exitCode = await cli.main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  input: process.stdin,
  output: process.stderr,
  env: process.env,
  signals: process,
});
