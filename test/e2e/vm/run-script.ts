// Runs one bash script in the e2e VM from the command line and prints the
// outcome as JSON: {"exitCode":N,"results":[...]} (exit status 0), or the
// error (exit status 1). The clone test runs a fresh clone's copy of it.
//   npx tsx test/e2e/vm/run-script.ts SCRIPT.sh [TIMEOUT_S]
import { readFileSync } from 'node:fs';
import { runInVm } from './run-in-vm.js';
import { verboseConsole } from './guest-scripts.js';

const [scriptFile, timeoutS = '120'] = process.argv.slice(2);
if (!scriptFile) {
  process.stderr.write('usage: run-script.ts SCRIPT.sh [TIMEOUT_S]\n');
  process.exit(2);
}
try {
  const onLine = verboseConsole('script');
  const run = await runInVm({ script: readFileSync(scriptFile, 'utf8'), timeoutMs: Number(timeoutS) * 1000, ...(onLine ? { onLine } : {}) });
  process.stdout.write(`${JSON.stringify({ exitCode: run.exitCode, results: run.results })}\n`);
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
