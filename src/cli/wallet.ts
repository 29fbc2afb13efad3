/**
 * `hashdlc wallet init | address | balance | send`: the participant's
 * BIP39/BIP84 wallet (src/wallet) through the library's use cases
 * (src/participant/wallet.ts). Balance and coins come from the node's RPC
 * (scantxoutset: confirmed outputs only).
 *
 * This module does NOT choose coins, sign or compute fees: it parses,
 * calls and prints.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { str, type CommandSpec, parseOrHelp, WALLET_OPTIONS, NODE_OPTIONS } from './args.js';
import { loadConfig } from './config.js';
import { CliContext } from './context.js';
import { usage } from '../participant/errors.js';
import { initWallet, newAddress, sendFromWallet, walletBalance } from '../participant/wallet.js';


export const WALLET_COMMANDS: Record<string, CommandSpec> = {
  init: {
    name: 'wallet init',
    summary: 'Create a wallet: a new BIP39 mnemonic (or a restored one) in <wallet-dir>/seed.json, mode 0600.',
    details: [
      'The mnemonic is printed once: write it down. It restores the BIP84 addresses',
      "(m/84'/coin'/0'/{0,1}/i) in any wallet, and the contract keys (m/9000'/coin'/0'/{0,1}'/i')",
      'in hashdlc. An existing seed file is never overwritten.',
    ],
    options: {
      ...WALLET_OPTIONS,
      'mnemonic-file': { type: 'string', value: 'FILE', help: "restore from a mnemonic in FILE ('-' = stdin)" },
    },
  },
  address: {
    name: 'wallet address',
    summary: 'Print a fresh receive address (BIP84 P2WPKH).',
    options: { ...WALLET_OPTIONS, change: { type: 'boolean', help: 'a change address instead' } },
  },
  balance: {
    name: 'wallet balance',
    summary: "Confirmed balance and coins of the wallet's addresses, from the node (scantxoutset).",
    details: ['Coins reserved by contracts that are not yet funded are shown separately.'],
    options: { ...NODE_OPTIONS, utxos: { type: 'boolean', help: 'list every coin' } },
  },
  send: {
    name: 'wallet send',
    args: '<address> <sats|all>',
    minArgs: 2,
    summary: "Pay SATS (or every spendable coin: 'all') to ADDRESS from the wallet's confirmed coins.",
    details: [
      'Coins reserved by contracts that are not yet funded are never spent. Change goes to a fresh change',
      "address; 'all' sweeps into one output (no change). Every input signals BIP125, so 'hashdlc bump'",
      'can replace the transaction. Fee rate: --fee-rate, else HASHDLC_FEE_RATE, else the node\'s estimate',
      '(2 sat/vB on regtest without one). --psbt-out FILE writes the unsigned PSBT for an external signer',
      'and stops (nothing signed or broadcast).',
    ],
    options: {
      ...NODE_OPTIONS,
      'fee-rate': { type: 'string', value: 'SAT_PER_VB', help: 'fee rate (default: HASHDLC_FEE_RATE, else the node\'s estimate)' },
      'psbt-out': { type: 'string', value: 'FILE', help: 'write the unsigned PSBT to FILE instead of signing and broadcasting' },
    },
  },
};

const USAGE = `usage: hashdlc wallet <init|address|balance|send> [options]   (--help on each)\n`;

/**
 * SATS or \`all\`.
 * @throws {ParticipantError} USAGE.
 */
function parseSendAmount(arg: string): bigint | 'all' {
  if (arg === 'all') return 'all';
  if (!/^[1-9]\d{0,15}$/.test(arg)) throw usage(`amount '${arg}' is not a whole number of sats or 'all'`);
  return BigInt(arg);
}


export async function walletCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const spec = sub === undefined ? undefined : WALLET_COMMANDS[sub];
  if (spec === undefined) {
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    throw usage(sub === undefined ? `missing wallet command\n${USAGE}` : `unknown wallet command '${sub}'\n${USAGE}`);
  }
  const parsed = parseOrHelp(spec, rest);
  if (parsed === undefined) return 0;
  const config = loadConfig(parsed.values);
  const ctx = new CliContext(config);
  try {
    switch (sub) {
      case 'init': {
        const file = str(parsed.values, 'mnemonic-file');
        const mnemonic = file === undefined ? undefined : readFileSync(file === '-' ? 0 : file, 'utf8');
        const r = await initWallet(ctx, mnemonic === undefined ? {} : { mnemonic });
        ctx.print(
          { walletDir: r.walletDir, network: r.network, mnemonic: r.mnemonic, firstAddress: r.firstAddress },
          [
            `wallet created in ${r.walletDir} (${r.network})`,
            r.restored ? 'restored from the given mnemonic' : 'mnemonic (write it down; it is shown only now):',
            ...(r.restored ? [] : [`  ${r.mnemonic}`]),
            `first receive address: ${r.firstAddress}`,
          ],
        );
        return 0;
      }
      case 'address': {
        const a = await newAddress(ctx, { change: parsed.values.change === true });
        ctx.print({ address: a.address, path: a.path }, [a.address]);
        return 0;
      }
      case 'balance': {
        const b = await walletBalance(ctx);
        ctx.print(b, [
          `confirmed: ${b.confirmedSats} sats in ${b.utxos.length} coin(s)`,
          `available: ${b.availableSats} sats (${b.reservedSats} reserved by unfunded contracts)`,
          ...(parsed.values.utxos === true ? b.utxos.map((c) => `  ${c.outpoint}  ${c.valueSats}  ${c.address}${c.reserved ? '  reserved' : ''}`) : []),
        ]);
        return 0;
      }
      case 'send': {
        const [address, amountArg] = parsed.positionals as [string, string];
        const psbtOut = str(parsed.values, 'psbt-out');
        // --fee-rate is read by loadConfig with HASHDLC_FEE_RATE (the participant's fee rate).
        const r = await sendFromWallet(ctx, { address, amount: parseSendAmount(amountArg), psbtOnly: psbtOut !== undefined });
        if (psbtOut !== undefined) writeFileSync(psbtOut, `${r.psbt}\n`);
        const { psbt: _psbt, ...json } = r;
        const change = r.changeAddress === undefined ? 'no change' : `change ${r.changeSats} sats to ${r.changeAddress}`;
        ctx.print(psbtOut === undefined ? json : { ...json, psbtOut }, [
          psbtOut === undefined
            ? `sent ${r.amountSats} sats to ${r.address}: ${r.txid}`
            : `unsigned PSBT written to ${psbtOut}: ${r.amountSats} sats to ${r.address} (txid ${r.txid} once signed); sign and broadcast it with your signer`,
          `fee ${r.feeSats} sats (${r.feeRatePerVb} sat/vB, ${r.vsize} vB), ${change}; inputs ${r.inputs.join(', ')}`,
        ]);
        return 0;
      }
    }
    return 1;
  } finally {
    await ctx.close();
  }
}
