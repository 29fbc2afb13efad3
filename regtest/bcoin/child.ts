/**
 * Child-process entry of the embedded regtest node: bcoin@1.0.2 with our Core
 * compatibility plugin, in memory, RPC on 127.0.0.1.
 *
 * Protocol with the parent (regtest/node.ts):
 * - argv[2] is a JSON object `{ "apiKey": string, "port"?: number, "logLevel"?: string }`;
 *   port 0 (default) lets the OS choose a free port;
 * - once the RPC server listens, one line `HASHDLC_READY {"port":N,"pid":P}` is
 *   written to stdout; errors go to stderr and exit code 1;
 * - the node stops on SIGTERM/SIGINT, and also when stdin closes, so the child
 *   never outlives a parent that died without cleaning up (even by SIGKILL).
 *
 * This entry does NOT pick the port or credentials itself, and keeps no data on
 * disk (memory database, no wallet, no P2P listening, no workers).
 */

// bcoin's crypto modules read NODE_BACKEND when first loaded: the pure-JS
// backends never depend on native builds (see shared/docs/REGTEST-NODE.md).
process.env.NODE_BACKEND = 'js';

const { loadBcoin } = await import('./bcoin.js');
const { coreCompatPlugin } = await import('./plugin.js');

interface ChildOptions {
  apiKey: string;
  port?: number;
  logLevel?: string;
}

function parseOptions(text: string | undefined): ChildOptions {
  const parsed: unknown = JSON.parse(text ?? '{}');
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as ChildOptions).apiKey !== 'string') {
    throw new TypeError('usage: child.ts \'{"apiKey":"...","port":0}\'');
  }
  return parsed as ChildOptions;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv[2]);
  const { bcoin, internals } = loadBcoin();
  const node = new bcoin.FullNode({
    network: 'regtest',
    memory: true,
    workers: false,
    listen: false,
    selfish: true,
    indexTX: true,
    indexAddress: true,
    requireStandard: true,
    httpHost: '127.0.0.1',
    httpPort: options.port ?? 0,
    apiKey: options.apiKey,
    logLevel: options.logLevel ?? 'error',
    logConsole: true,
    plugins: [coreCompatPlugin(bcoin, internals)],
  });

  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    try {
      await node.close();
    } catch {
      // closing a half-open node: nothing left to release but the process
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  process.stdin.on('end', () => void stop(0));
  process.stdin.on('error', () => void stop(0));
  process.stdin.resume();

  await node.open();
  const addr = node.http.address();
  if (!addr) throw new Error('RPC server is not listening');
  process.stdout.write(`HASHDLC_READY ${JSON.stringify({ port: addr.port, pid: process.pid })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bcoin child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
