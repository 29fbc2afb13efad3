/**
 * Child-process entry of the embedded regtest node (started by regtest/node.ts).
 *
 * Protocol with the parent:
 * - argv[2] is JSON `{ "apiKey": string, "port"?: number, "logLevel"?: string }`
 *   (port 0, the default, lets the OS choose a free port);
 * - once RPC listens, one line `HASHDLC_READY {"port":N,"pid":P}` goes to stdout;
 *   logs and errors go to stderr; a start failure exits with code 1;
 * - SIGTERM/SIGINT or stdin closing stops the node (see run.ts).
 *
 * This entry does NOT choose the port or credentials itself.
 */
import { runEmbeddedNode } from './run.js';
import type { EmbeddedNodeOptions } from './run.js';

function parseOptions(text: string | undefined): EmbeddedNodeOptions {
  const parsed: unknown = JSON.parse(text ?? '{}');
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as EmbeddedNodeOptions).apiKey !== 'string') {
    throw new TypeError('usage: child.ts \'{"apiKey":"...","port":0}\'');
  }
  return parsed as EmbeddedNodeOptions;
}

try {
  const { port } = await runEmbeddedNode(parseOptions(process.argv[2]));
  process.stdout.write(`HASHDLC_READY ${JSON.stringify({ port, pid: process.pid })}\n`);
} catch (err) {
  process.stderr.write(`bcoin child failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
