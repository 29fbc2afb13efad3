/**
 * The `hashdlc` command line. Dispatches to one module per command group.
 */
const USAGE = `usage: hashdlc <command> [args]

commands:
  msg decode <hex|file>    decode a DLC message (wire hex) to JSON
  msg encode <json|file>   encode a DLC message from JSON to wire hex
  oracle verify <url> <event-id>  verify an oracle attestation against your node
`;

export async function main(argv: string[]): Promise<number> {
  const [group, ...rest] = argv;
  switch (group) {
    case 'msg': {
      const { msgCommand } = await import('./msg.js');
      return msgCommand(rest);
    }
    case 'oracle': {
      const { oracleCommand } = await import('./oracle.js');
      return oracleCommand(rest);
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return group === undefined ? 1 : 0;
    default:
      process.stderr.write(`hashdlc: unknown command '${group}'\n${USAGE}`);
      return 1;
  }
}
