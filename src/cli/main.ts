/**
 * The `hashdlc` command line: dispatches to one module per command group,
 * and turns every error into one line on stderr and an exit code (0 ok,
 * 1 failure, 2 usage or configuration error; src/cli/errors.ts).
 *
 * This module does NOT implement commands.
 */
import { ParticipantError } from '../participant/errors.js';
import { describeError } from './errors.js';

const USAGE = `usage: hashdlc <command> [args] [options]     (hashdlc <command> --help)

participant:
  wallet init|address|balance|send  the BIP39/BIP84 wallet (seed file mode 0600)
  offer <template>                  offer a contract: hashpower | hashprice-forward | hashprice-call | custom
  offers [show <id>]                the coordinator's offer book
  accept <offer-id>                 check an offer against its terms and its oracles, sign every CET
  sign <contract-id>                offerer: verify the accept, sign CETs, refund and funding inputs
  fund <contract-id>                accepter: verify sign_dlc, sign funding inputs
  status [<contract-id>]            the contracts in this wallet
  settle <contract-id>              complete the attested CET and broadcast (no coordinator needed)
  refund <contract-id>              broadcast the refund after its locktime (no coordinator needed)
  close <contract-id>               cooperative close at an agreed split
  cancel <contract-id>              withdraw an offer / give up before funding (frees the coins)
  position sell|buy|consent|release|fund|status|cancel   sell or buy a live contract's side (issue 14)
  positions [--state S]             the coordinator's positions for sale
  bump <txid> --fee-rate R          raise a stuck transaction's fee rate (CPFP, or RBF of your own)
  agent [--once] [--policy FILE]    run this wallet's contracts unattended (sign, fund, settle, refund...)

tools:
  msg decode <hex|file>             decode a DLC message (wire hex) to JSON
  msg encode <json|file>            encode a DLC message from JSON to wire hex
  oracle verify <contract-id>       verify every oracle of a contract against your node, and which agreed
  oracle verify <url> <event-id>    verify an oracle attestation against your node

configuration: flags, or HASHDLC_WALLET_DIR, HASHDLC_NETWORK, HASHDLC_COORDINATOR,
HASHDLC_ORACLE, HASHDLC_ORACLE_PUBKEY (comma-separated lists), HASHDLC_ORACLE_THRESHOLD,
HASHDLC_RPC_URL, HASHDLC_RPC_USER,
HASHDLC_RPC_PASSWORD, HASHDLC_FEE_RATE, HASHDLC_THREADS.
`;

async function dispatch(group: string | undefined, rest: string[]): Promise<number> {
  switch (group) {
    case 'msg': {
      const { msgCommand } = await import('./msg.js');
      return msgCommand(rest);
    }
    case 'oracle': {
      const { oracleCommand } = await import('./oracle.js');
      return oracleCommand(rest);
    }
    case 'wallet': {
      const { walletCommand } = await import('./wallet.js');
      return walletCommand(rest);
    }
    case 'offer': {
      const { offerMain } = await import('./offer.js');
      return offerMain(rest);
    }
    case 'offers': {
      const { offersMain } = await import('./offer.js');
      return offersMain(rest);
    }
    case 'accept': {
      const { acceptCommand } = await import('./negotiate.js');
      return acceptCommand(rest);
    }
    case 'sign': {
      const { signCommand } = await import('./negotiate.js');
      return signCommand(rest);
    }
    case 'fund': {
      const { fundCommand } = await import('./negotiate.js');
      return fundCommand(rest);
    }
    case 'status': {
      const { statusCommand } = await import('./settle.js');
      return statusCommand(rest);
    }
    case 'settle': {
      const { settleCommand } = await import('./settle.js');
      return settleCommand(rest);
    }
    case 'refund': {
      const { refundCommand } = await import('./settle.js');
      return refundCommand(rest);
    }
    case 'close': {
      const { closeCommand } = await import('./settle.js');
      return closeCommand(rest);
    }
    case 'cancel': {
      const { cancelCommand } = await import('./settle.js');
      return cancelCommand(rest);
    }
    case 'position': {
      const { positionCommand } = await import('./position.js');
      return positionCommand(rest);
    }
    case 'positions': {
      const { positionsCommand } = await import('./position.js');
      return positionsCommand(rest);
    }
    case 'bump': {
      const { bumpCommand } = await import('./bump.js');
      return bumpCommand(rest);
    }
    case 'agent': {
      const { agentCommand } = await import('./agent.js');
      return agentCommand(rest);
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return group === undefined ? 2 : 0;
    default:
      throw new ParticipantError('USAGE', `unknown command '${group}'\n${USAGE}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [group, ...rest] = argv;
  try {
    return await dispatch(group, rest);
  } catch (err) {
    const { line, exitCode } = describeError(err);
    process.stderr.write(`hashdlc: ${line}\n`);
    return exitCode;
  }
}
