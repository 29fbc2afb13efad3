/**
 * Child-process entry of a stack service (spawned by services.ts):
 * `service-main.ts oracle|coordinator --config FILE` runs that service's own
 * process entry (`oracle/main.ts` or `src/coordinator/main.ts` `main()`),
 * which prints its URL as one JSON line on stdout and stops cleanly on
 * SIGINT/SIGTERM.
 *
 * What it adds: the supervisor holds this process's stdin open; when it
 * closes (the supervisor died, even by SIGKILL), the service sends itself
 * SIGTERM and stops. So no service outlives the stack that started it.
 *
 * This module does NOT configure the service (its config file does).
 */
const [kind, ...argv] = process.argv.slice(2);

const stopSelf = (): void => {
  process.kill(process.pid, 'SIGTERM');
};
process.stdin.once('end', stopSelf);
process.stdin.once('error', stopSelf);
process.stdin.resume();

let main: (argv: string[]) => Promise<number>;
if (kind === 'oracle') {
  ({ main } = await import('../../oracle/main.js'));
} else if (kind === 'coordinator') {
  ({ main } = await import('../coordinator/main.js'));
} else {
  process.stderr.write(`usage: service-main.ts oracle|coordinator --config FILE (got '${kind ?? ''}')\n`);
  process.exit(2);
}
const code = await main(argv);
process.stdin.off('end', stopSelf);
process.stdin.destroy();
process.exitCode = code;
