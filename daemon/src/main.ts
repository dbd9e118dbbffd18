// Entry point: `node virtual-mediad.mjs --config /etc/virtual-media/config.json`.
// Refuses to start on a bad config (one line per problem, nothing started)
// and ejects every medium on SIGTERM/SIGINT before exiting.
import { parseCli, USAGE, UsageError } from './cli.js';
import { formatProblems } from './config/parse.js';
import { loadConfig } from './config/load.js';
import { Daemon } from './daemon.js';
import { daemonLogger } from './util/logger.js';

async function main(): Promise<number> {
  let cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`<3>${e.message}\n<3>${USAGE.split('\n').join('\n<3>')}\n`);
    return 2;
  }
  const log = daemonLogger(cli.debug);
  log.debug(`start-up: main() at ${(process.uptime() * 1000).toFixed(0)} ms after process start`);
  const loaded = loadConfig(cli.configFile, { roots: cli.roots });
  if (!loaded.ok) {
    for (const line of formatProblems(loaded.problems)) log.error(line);
    log.error(`not starting: ${loaded.problems.length} problem(s) in ${cli.configFile}`);
    return 1;
  }
  const daemon = new Daemon(loaded.config, log);
  let stopping: Promise<number> | undefined;
  const stop = (why: string, code: number) => {
    stopping ??= (async () => {
      log.info(why);
      await daemon.stop();
      return code;
    })();
    return stopping;
  };
  const exitAfterStop = (why: string, code: number) => void stop(why, code).then((c) => process.exit(c));
  process.on('SIGTERM', () => exitAfterStop('SIGTERM received', 0));
  process.on('SIGINT', () => exitAfterStop('SIGINT received', 0));
  try {
    await daemon.start({ bus: cli.bus, address: cli.address });
    daemon.watchBus(() => {
      log.error('lost the D-Bus connection: ejecting all media and exiting');
      exitAfterStop('bus connection lost', 1);
    });
  } catch (e) {
    log.error(`cannot start: ${(e as Error).message}`);
    await daemon.stop().catch(() => undefined);
    return 1;
  }
  return new Promise<number>(() => {
    // Runs until a signal; the bus connection keeps the event loop alive.
  });
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`<2>fatal: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(70);
  },
);
