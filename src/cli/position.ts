/**
 * `hashdlc position sell|buy|consent|release|fund|status|cancel` and
 * `hashdlc positions` (issue 14): the secondary book of live contracts. Each
 * command parses its argv, calls the use case of src/participant/positions.ts
 * (where every check before signing lives) and prints the result (human
 * lines or `--json`).
 *
 * This module does NOT check or sign anything itself.
 */
import { writeFileSync } from 'node:fs';
import { COMMON_OPTIONS, NET_OPTIONS, bigintOpt, intOpt, pickOptions, required, str, type CommandSpec, type OptionValues, parseOrHelp } from './args.js';
import { loadConfig } from './config.js';
import { withContext, type CliContext } from './context.js';
import { readPsbtFile } from './negotiate.js';
import { POSITION_STATES, type PositionView } from '../api/index.js';
import { usage } from '../participant/errors.js';
import {
  buyPosition,
  cancelPosition,
  consentTransfer,
  fundTransfer,
  listPositions,
  positionStatus,
  releaseTransfer,
  sellPosition,
} from '../participant/positions.js';

const NET = { ...NET_OPTIONS, threads: COMMON_OPTIONS.threads! };
const COORD = pickOptions('wallet-dir', 'network', 'coordinator', 'json');

export const POSITION_SPECS: Record<string, CommandSpec> = {
  sell: {
    name: 'position sell',
    args: '<contract-id>',
    minArgs: 1,
    summary: 'List your side (the buyer side) of a funded, confirmed contract for sale at a price.',
    details: [
      'Checks first: the contract is yours (you accepted it), its funding output is confirmed and unspent on your node,',
      'and the transfer window is open (it closes a margin of blocks before the CET locktime).',
      'The price and your address for it are stored in your contract file: `position release` checks the transfer against them.',
    ],
    options: {
      ...NET_OPTIONS,
      price: { type: 'string', value: 'SATS', help: 'the price the buyer pays you (required)' },
      address: { type: 'string', value: 'ADDR', help: 'where the price is paid (default: a new address of this wallet)' },
    },
  },
  buy: {
    name: 'position buy',
    args: '<position-id>',
    minArgs: 1,
    summary: 'Take a listed position: check it as an offer, sign the new contract\'s CETs and refund with a new funding key.',
    details: [
      'Checks before signing anything: the old contract is the contract its terms describe (every payout) over your own',
      "oracles' announcements (as 'accept' checks an offer); its funding output is confirmed and unspent on your node at",
      'its value and script; the event is not attested; the transfer window is open; the price is at most --max-price.',
      'Your coins pay the price and the transfer fee; the new contract is stored in your wallet before it is sent.',
    ],
    options: {
      ...NET,
      'max-price': { type: 'string', value: 'SATS', help: 'refuse a price above this' },
      'fee-rate': { type: 'string', value: 'SAT_PER_VB', help: 'the transfer transaction\'s fee rate (you pay it; default: the node\'s estimate, 2 on regtest)', env: 'HASHDLC_FEE_RATE' },
    },
  },
  consent: {
    name: 'position consent',
    args: '<position-id>',
    minArgs: 1,
    summary: 'The counterparty that stays (the miner): check the new contract against your own old one, sign it and the transfer.',
    details: [
      'Refused, naming the field (INVALID_PARAMS (transfer-mismatch:<field>)), when anything but the buyer\'s key, payout,',
      "change and inputs differs from your stored contract; the new buyer's CET and refund signatures are verified first.",
    ],
    options: NET,
  },
  release: {
    name: 'position release',
    args: '<position-id>',
    minArgs: 1,
    summary: 'The seller: sign your old funding input into the transfer, once it pays your listing\'s price to your address.',
    details: ['The price and address are the ones stored by `position sell`, never the coordinator\'s copy (INVALID_PARAMS (transfer-price-missing)).'],
    options: NET_OPTIONS,
  },
  fund: {
    name: 'position fund',
    args: '<position-id>',
    minArgs: 1,
    summary: 'The buyer: verify the counterparty\'s CET and refund signatures, then sign your inputs of the transfer.',
    options: {
      ...NET,
      'psbt-out': { type: 'string', value: 'FILE', help: 'write the transfer PSBT for an external wallet to sign, and stop' },
      'psbt-in': { type: 'string', value: 'FILE', help: 'the transfer PSBT signed by the external wallet (base64 or binary)' },
    },
  },
  status: {
    name: 'position status',
    args: '<position-id>',
    minArgs: 1,
    summary: 'A position as the coordinator shows it (in full when you take part), and your contracts in it.',
    options: COORD,
  },
  cancel: {
    name: 'position cancel',
    args: '<position-id>',
    minArgs: 1,
    summary: 'Withdraw your listing (the seller), or your take (the buyer; the position is listed again). Refused after broadcast.',
    options: COORD,
  },
};

export const POSITIONS_SPEC: CommandSpec = {
  name: 'positions',
  summary: 'The coordinator\'s positions for sale (or in another state).',
  options: {
    ...COORD,
    state: { type: 'string', value: 'S', help: `${POSITION_STATES.join(' | ')} (default listed)` },
    limit: { type: 'string', value: 'N', help: 'at most N positions' },
    after: { type: 'string', value: 'ID', help: 'the page after this position id' },
  },
};

const USAGE = `usage: hashdlc position <command> [args] [options]     (hashdlc position <command> --help)

  sell <contract-id> --price SATS [--address ADDR]   list your side of a live contract
  buy <position-id> [--max-price SATS] [--fee-rate R] take a listed position
  consent <position-id>                              the miner: accept the new buyer
  release <position-id>                              the seller: sign once the price is yours
  fund <position-id> [--psbt-out F | --psbt-in F]    the buyer: sign your inputs of the transfer
  status <position-id>                               a position and your contracts in it
  cancel <position-id>                               withdraw a listing or a take
`;

/** One line per position. */
export function positionLine(v: PositionView): string {
  return `${v.id}  ${v.state.padEnd(11)} ${v.price.padStart(10)} sats  contract ${v.contractId.slice(0, 16)}  last height ${v.lastHeight}`;
}

function positionJson(v: PositionView): Record<string, unknown> {
  return v as Record<string, unknown>;
}

async function run(sub: string, positional: string, values: OptionValues, ctx: CliContext): Promise<void> {
  switch (sub) {
    case 'sell': {
      const price = BigInt(required(values, 'price', 'position sell'));
      const address = str(values, 'address');
      const v = await sellPosition(ctx, positional, { price, ...(address === undefined ? {} : { address }) });
      ctx.print(positionJson(v), [`listed contract ${v.contractId} as position ${v.id} at ${v.price} sats (transfers until height ${v.lastHeight})`]);
      return;
    }
    case 'buy': {
      const maxPrice = bigintOpt(values, 'max-price');
      const feeRate = bigintOpt(values, 'fee-rate');
      const r = await buyPosition(ctx, positional, { ...(maxPrice === undefined ? {} : { maxPrice }), ...(feeRate === undefined ? {} : { feeRate }) });
      ctx.print(r, [
        `took position ${r.positionId} at ${r.price} sats (transfer fee ${r.fee}): new contract ${r.id}`,
        `contract id ${r.contractId}, transfer txid ${r.transferTxid}`,
        `next: the counterparty consents and the seller releases; then run 'hashdlc position fund ${r.positionId}'`,
      ]);
      return;
    }
    case 'consent': {
      const r = await consentTransfer(ctx, positional);
      ctx.print(r, [`consented to position ${r.positionId}: new contract ${r.id} (contract id ${r.contractId}), position ${r.state}`]);
      return;
    }
    case 'release': {
      const r = await releaseTransfer(ctx, positional);
      ctx.print(r, [`released position ${r.positionId}: the transfer ${r.transferTxid} pays you ${r.price} sats; position ${r.state}`]);
      return;
    }
    case 'fund': {
      const out = str(values, 'psbt-out');
      const inFile = str(values, 'psbt-in');
      const r = await fundTransfer(ctx, positional, { ...(out === undefined ? {} : { psbtOut: true }), ...(inFile === undefined ? {} : { psbtIn: readPsbtFile(inFile) }) });
      if (r.psbtOut) {
        writeFileSync(out!, `${r.psbt}\n`);
        ctx.print({ positionId: r.positionId, psbtOut: out, transferTxid: r.transferTxid }, [
          `counterparty's signatures verified; the transfer PSBT is in ${out}: sign your inputs, then`,
          `  hashdlc position fund ${r.positionId} --psbt-in FILE`,
        ]);
        return;
      }
      ctx.print(r, [`funded position ${r.positionId}: transfer ${r.transferTxid}, position ${r.state}; new contract ${r.id}`]);
      return;
    }
    case 'status': {
      const { view, records } = await positionStatus(ctx, positional);
      ctx.print({ position: view, records: records.map((x) => ({ id: x.id, role: x.role, state: x.state })) }, [
        positionLine(view),
        ...(view.transferTxid ? [`transfer txid ${view.transferTxid}`] : []),
        ...(view.consented !== undefined ? [`consented ${view.consented}, released ${view.released ?? false}, funded ${view.funded ?? false}`] : []),
        ...records.map((x) => `  your contract ${x.id} (${x.role === 'offer' ? 'offered' : 'accepted'} here): ${x.state}`),
      ]);
      return;
    }
    case 'cancel': {
      const v = await cancelPosition(ctx, positional);
      ctx.print(positionJson(v), [`position ${v.id}: ${v.state}`]);
      return;
    }
    default:
      throw usage(`unknown position command '${sub}'\n${USAGE}`);
  }
}

/** `hashdlc position <sub> ...`. */
export async function positionCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const spec = sub === undefined ? undefined : POSITION_SPECS[sub];
  if (spec === undefined) {
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    throw usage(sub === undefined ? `missing position command\n${USAGE}` : `unknown position command '${sub}'\n${USAGE}`);
  }
  const parsed = parseOrHelp(spec, rest);
  if (parsed === undefined) return 0;
  // Usage errors before anything is opened or contacted.
  if (sub === 'sell') required(parsed.values, 'price', 'position sell');
  if (str(parsed.values, 'psbt-out') !== undefined && str(parsed.values, 'psbt-in') !== undefined) throw usage('--psbt-out and --psbt-in are two runs: give one');
  for (const flag of ['price', 'max-price', 'fee-rate']) bigintOpt(parsed.values, flag);
  return withContext(loadConfig(parsed.values), {}, (ctx) => run(sub!, parsed.positionals[0]!, parsed.values, ctx));
}

/** `hashdlc positions [--state S] [--json]`. */
export async function positionsCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(POSITIONS_SPEC, argv);
  if (parsed === undefined) return 0;
  const state = str(parsed.values, 'state');
  if (state !== undefined && !(POSITION_STATES as readonly string[]).includes(state)) throw usage(`--state must be one of ${POSITION_STATES.join(', ')}, got '${state}'`);
  const limit = intOpt(parsed.values, 'limit');
  const after = str(parsed.values, 'after');
  return withContext(loadConfig(parsed.values), { readOnly: true }, async (ctx) => {
    const r = await listPositions(ctx, { ...(state === undefined ? {} : { state }), ...(limit === undefined ? {} : { limit }), ...(after === undefined ? {} : { after }) });
    ctx.print(r, r.positions.length === 0 ? [`no ${state ?? 'listed'} positions`] : [...r.positions.map(positionLine), ...(r.next === null ? [] : [`more: --after ${r.next}`])]);
  });
}
