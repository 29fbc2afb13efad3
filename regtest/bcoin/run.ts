/**
 * Runs the embedded regtest node in this process: bcoin@1.0.2 with our Core
 * compatibility plugin, memory database (or, with `prefix`, an on-disk
 * LevelDB chain in that directory, reused by the next start), RPC on
 * 127.0.0.1. Shared by the child entry (child.ts) and test fixtures.
 *
 * The node stops, and the process exits, on SIGTERM/SIGINT and when stdin
 * closes: a node whose parent died (even by SIGKILL) does not linger.
 *
 * This module does NOT pick ports or credentials, and keeps nothing on disk
 * unless given `prefix` (no wallet, no P2P listening, no workers).
 */
import { rmSync } from 'node:fs';

/** How to run the embedded node. */
export interface EmbeddedNodeOptions {
  /** RPC password (bcoin's API key); the user name is not checked. */
  apiKey: string;
  /** RPC port; 0 lets the OS choose. */
  port?: number;
  /** bcoin log level on stderr: 'error' (default), 'warning', 'info', 'debug'. */
  logLevel?: string;
  /** A directory to delete when the node stops (the harness's temp dir, in case the parent died). */
  removeOnExit?: string;
  /** Keep the chain on disk in this directory (bcoin `prefix`, LevelDB); default: memory. */
  prefix?: string;
}

/**
 * Opens the node and installs the stop handlers.
 * @returns the RPC port actually listened on.
 * @throws {Error} when the node fails to open.
 */
export async function runEmbeddedNode(options: EmbeddedNodeOptions): Promise<{ port: number }> {
  // bcoin's crypto modules read NODE_BACKEND when first loaded: the pure-JS
  // backends never depend on native builds (shared/docs/REGTEST-NODE.md).
  process.env.NODE_BACKEND = 'js';
  const { loadBcoin } = await import('./bcoin.js');
  const { coreCompatPlugin } = await import('./plugin.js');
  const { bcoin, internals } = loadBcoin();
  const node = new bcoin.FullNode({
    network: 'regtest',
    memory: options.prefix === undefined,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
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
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    try {
      await node.close();
    } catch {
      // a half-open node: nothing left to release but the process
    }
    if (options.removeOnExit) rmSync(options.removeOnExit, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdin.on('end', () => void stop());
  process.stdin.on('error', () => void stop());
  process.stdin.resume();

  await node.ensure();
  await node.open();
  const addr = node.http.address();
  if (!addr) throw new Error('RPC server is not listening');
  return { port: addr.port };
}
