// journald-style logging (`<N>` priority prefixes on stderr) from the runtime,
// with a prefix per mount point so one journal shows who said what.
import { journalLogger, type Logger } from '../../../codegen/runtime/index.js';

export type { Logger };

export function daemonLogger(debug: boolean): Logger {
  return journalLogger((line) => process.stderr.write(line), debug);
}

export function prefixed(log: Logger, prefix: string): Logger {
  return {
    error: (m) => log.error(`${prefix}: ${m}`),
    warning: (m) => log.warning(`${prefix}: ${m}`),
    info: (m) => log.info(`${prefix}: ${m}`),
    debug: (m) => log.debug(`${prefix}: ${m}`),
  };
}
