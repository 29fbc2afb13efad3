/**
 * `hashdlc wallet init | address | balance`: the participant's BIP39/BIP84
 * wallet (src/wallet). Balance and coins come from the node's RPC
 * (scantxoutset: confirmed outputs only).
 *
 * This module does NOT send coins: funding happens inside contracts.
 */
import { readFileSync } from 'node:fs';
import { Wallet } from '../wallet/index.js';
import { COMMON_OPTIONS, parseCommand, helpText, str, type CommandSpec } from './args.js';
import { loadConfig } from './config.js';
import { CliContext } from './context.js';
import { usage } from '../participant/errors.js';

const WALLET_OPTIONS = {
  'wallet-dir': COMMON_OPTIONS['wallet-dir']!,
  network: COMMON_OPTIONS.network!,
  json: COMMON_OPTIONS.json!,
};
const NODE_OPTIONS = {
  ...WALLET_OPTIONS,
  'rpc-url': COMMON_OPTIONS['rpc-url']!,
  'rpc-user': COMMON_OPTIONS['rpc-user']!,
  'rpc-password': COMMON_OPTIONS['rpc-password']!,
};

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
};

const USAGE = `usage: hashdlc wallet <init|address|balance> [options]   (--help on each)\n`;

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
  const parsed = parseCommand(spec, rest);
  if (parsed.help) {
    process.stdout.write(helpText(spec));
    return 0;
  }
  const config = loadConfig(parsed.values);
  const ctx = new CliContext(config);
  try {
    switch (sub) {
      case 'init': {
        const file = str(parsed.values, 'mnemonic-file');
        const mnemonic = file === undefined ? undefined : readFileSync(file === '-' ? 0 : file, 'utf8');
        const { wallet, mnemonic: words } = Wallet.init(config.walletDir, config.network, mnemonic);
        const first = wallet.keys.address(0, 0);
        ctx.print(
          { walletDir: wallet.dir, network: wallet.network.name, mnemonic: words, firstAddress: first.address },
          [
            `wallet created in ${wallet.dir} (${wallet.network.name})`,
            mnemonic === undefined ? 'mnemonic (write it down; it is shown only now):' : 'restored from the given mnemonic',
            ...(mnemonic === undefined ? [`  ${words}`] : []),
            `first receive address: ${first.address}`,
          ],
        );
        return 0;
      }
      case 'address': {
        const w = ctx.wallet();
        const a = parsed.values.change === true ? w.newChangeAddress() : w.newReceiveAddress();
        ctx.print({ address: a.address, path: a.path }, [a.address]);
        return 0;
      }
      case 'balance': {
        const w = ctx.wallet();
        const rpc = await ctx.rpc();
        const utxos = await w.utxos(rpc);
        const reserved = w.contracts.reservedOutpoints();
        let confirmed = 0n;
        let locked = 0n;
        for (const u of utxos) {
          confirmed += u.valueSats;
          if (reserved.has(`${u.txid}:${u.vout}`)) locked += u.valueSats;
        }
        const coins = utxos.map((u) => ({
          outpoint: `${u.txid}:${u.vout}`,
          valueSats: u.valueSats,
          address: u.address.address,
          height: u.height,
          reserved: reserved.has(`${u.txid}:${u.vout}`),
        }));
        ctx.print(
          { confirmedSats: confirmed, availableSats: confirmed - locked, reservedSats: locked, utxos: coins },
          [
            `confirmed: ${confirmed} sats in ${utxos.length} coin(s)`,
            `available: ${confirmed - locked} sats (${locked} reserved by unfunded contracts)`,
            ...(parsed.values.utxos === true ? coins.map((c) => `  ${c.outpoint}  ${c.valueSats}  ${c.address}${c.reserved ? '  reserved' : ''}`) : []),
          ],
        );
        return 0;
      }
    }
    return 1;
  } finally {
    await ctx.close();
  }
}
