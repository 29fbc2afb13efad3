/**
 * zod schemas of the bitcoind JSON-RPC answers the chain layer uses, and the
 * typed values they produce.
 *
 * Field names follow Bitcoin Core's RPC help, except that every amount is turned
 * into bigint satoshis and renamed with a `Sats` suffix (`value` → `valueSats`,
 * `fees.base` → `feeSats`, `feerate` → `feeRateSatPerKvB`) so a BTC float can never
 * be mistaken for satoshis. Unknown fields are dropped; fields that only some Core
 * versions print are optional.
 *
 * This module does NOT do I/O and does not know which node answered.
 */
import { z } from 'zod';
import { JsonDecimal, decimalToSats } from './json.js';

const hex = z.string().regex(/^(?:[0-9a-fA-F]{2})*$/, 'hex');
const hash256 = z.string().regex(/^[0-9a-fA-F]{64}$/, '32-byte hex');
const int = z.number().int();

/** An amount in BTC as printed by the node → bigint sats. */
const btcAmount = z
  .union([z.number().int(), z.bigint(), z.instanceof(JsonDecimal)])
  .transform((v, ctx) => {
    if (typeof v === 'number' || typeof v === 'bigint') return BigInt(v) * 100_000_000n;
    try {
      return decimalToSats(v.text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

/** A non-money number that may have a fraction (difficulty, progress). */
const real = z.union([z.number(), z.instanceof(JsonDecimal)]).transform((v) => (typeof v === 'number' ? v : v.toNumber()));

/** `bits` is a hex string in Core; some nodes print the compact number. */
const compactBits = z.union([z.string().regex(/^[0-9a-fA-F]{8}$/), int]).transform((v) =>
  typeof v === 'string' ? v.toLowerCase() : v.toString(16).padStart(8, '0'),
);

export const blockchainInfoSchema = z.object({
  chain: z.string(),
  blocks: int,
  headers: int,
  bestblockhash: hash256,
  mediantime: int,
  initialblockdownload: z.boolean().optional(),
  pruned: z.boolean(),
});
export type BlockchainInfo = z.infer<typeof blockchainInfoSchema>;

export const scriptPubKeySchema = z.object({
  asm: z.string(),
  hex,
  /** Core's names: `witness_v0_keyhash`, `witness_v0_scripthash`, `witness_v1_taproot`, `pubkeyhash`, `scripthash`, `nulldata`, ... */
  type: z.string(),
  /** Present for scripts that have an address (Core >= 22; older printed `addresses`). */
  address: z.string().optional(),
});
export type ScriptPubKey = z.infer<typeof scriptPubKeySchema>;

const vinSchema = z.object({
  txid: hash256.optional(),
  vout: int.optional(),
  coinbase: hex.optional(),
  scriptSig: z.object({ asm: z.string(), hex }).optional(),
  txinwitness: z.array(hex).optional(),
  sequence: int,
});
export type TxInput = z.infer<typeof vinSchema>;

const voutSchema = z
  .object({ value: btcAmount, n: int, scriptPubKey: scriptPubKeySchema })
  .transform(({ value, ...rest }) => ({ ...rest, valueSats: value }));
export type TxOutput = z.infer<typeof voutSchema>;

export const txSchema = z.object({
  txid: hash256,
  /** The wtxid. */
  hash: hash256,
  version: int,
  size: int,
  vsize: int,
  weight: int,
  locktime: int,
  vin: z.array(vinSchema),
  vout: z.array(voutSchema),
  hex: hex.optional(),
  blockhash: hash256.optional(),
  confirmations: int.optional(),
  time: int.optional(),
  blocktime: int.optional(),
});
export type VerboseTx = z.infer<typeof txSchema>;

export const blockHeaderSchema = z.object({
  hash: hash256,
  /** -1 when the block is not on the active chain. */
  confirmations: int,
  height: int,
  version: int,
  merkleroot: hash256,
  time: int,
  mediantime: int,
  nonce: int,
  bits: compactBits,
  chainwork: hex,
  previousblockhash: hash256.optional(),
  nextblockhash: hash256.optional(),
});
export type BlockHeader = z.infer<typeof blockHeaderSchema>;

/** One element of getchaintips, with Core's statuses (the embedded node never answers `headers-only`). */
export const chainTipSchema = z.object({
  height: int,
  hash: hash256,
  /** Blocks from the fork with the active chain to this tip; 0 for the active tip. */
  branchlen: int,
  status: z.enum(['active', 'valid-fork', 'valid-headers', 'headers-only', 'invalid']),
});
export type ChainTip = z.infer<typeof chainTipSchema>;

export const blockSchema = blockHeaderSchema.extend({
  size: int,
  weight: int,
  tx: z.array(hash256),
});
export type Block = z.infer<typeof blockSchema>;

export const blockWithTxsSchema = blockHeaderSchema.extend({
  size: int,
  weight: int,
  tx: z.array(txSchema),
});
export type BlockWithTxs = z.infer<typeof blockWithTxsSchema>;

export const txOutSchema = z
  .object({
    bestblock: hash256,
    confirmations: int,
    value: btcAmount,
    scriptPubKey: scriptPubKeySchema,
    coinbase: z.boolean(),
  })
  .transform(({ value, ...rest }) => ({ ...rest, valueSats: value }));
export type UnspentTxOut = z.infer<typeof txOutSchema>;

export const mempoolAcceptSchema = z
  .object({
    txid: hash256,
    wtxid: hash256.optional(),
    allowed: z.boolean().optional(),
    vsize: int.optional(),
    fees: z.object({ base: btcAmount }).optional(),
    'reject-reason': z.string().optional(),
    'package-error': z.string().optional(),
  })
  .transform((r) => ({
    txid: r.txid,
    wtxid: r.wtxid,
    allowed: r.allowed === true,
    vsize: r.vsize,
    feeSats: r.fees?.base,
    rejectReason: r['reject-reason'] ?? r['package-error'],
  }));
export type MempoolAcceptResult = z.infer<typeof mempoolAcceptSchema>;

export const blockTemplateSchema = z.object({
  version: int,
  rules: z.array(z.string()),
  previousblockhash: hash256,
  transactions: z.array(
    z.object({
      data: hex,
      txid: hash256,
      hash: hash256,
      fee: z.union([int, z.bigint()]).transform((v) => BigInt(v)).optional(),
      weight: int.optional(),
    }),
  ),
  /** Already in satoshis in Core's answer (BIP 22). */
  coinbasevalue: z.union([int, z.bigint()]).transform((v) => BigInt(v)),
  target: hash256,
  mintime: int,
  curtime: int,
  bits: compactBits,
  height: int,
  default_witness_commitment: hex.optional(),
});
export type BlockTemplate = z.infer<typeof blockTemplateSchema>;

export const mempoolEntrySchema = z
  .object({
    vsize: int,
    weight: int.optional(),
    time: int,
    height: int,
    fees: z.object({ base: btcAmount }),
    depends: z.array(hash256),
  })
  .transform(({ fees, ...rest }) => ({ ...rest, feeSats: fees.base }));
export type MempoolEntry = z.infer<typeof mempoolEntrySchema>;

export const smartFeeSchema = z
  .object({
    feerate: btcAmount.optional(),
    errors: z.array(z.string()).optional(),
    blocks: int,
  })
  .transform((r) => ({ feeRateSatPerKvB: r.feerate, errors: r.errors ?? [], blocks: r.blocks }));
export type SmartFeeEstimate = z.infer<typeof smartFeeSchema>;

export const networkInfoSchema = z
  .object({
    version: int,
    subversion: z.string(),
    protocolversion: int,
    relayfee: btcAmount,
  })
  .transform(({ relayfee, ...rest }) => ({ ...rest, relayFeeSatPerKvB: relayfee }));
export type NetworkInfo = z.infer<typeof networkInfoSchema>;

export const scanTxOutSetSchema = z
  .object({
    success: z.boolean(),
    height: int,
    bestblock: hash256,
    unspents: z.array(
      z
        .object({
          txid: hash256,
          vout: int,
          scriptPubKey: hex,
          desc: z.string(),
          amount: btcAmount,
          coinbase: z.boolean().optional(),
          height: int,
        })
        .transform(({ amount, ...rest }) => ({ ...rest, amountSats: amount })),
    ),
    total_amount: btcAmount,
  })
  .transform(({ total_amount, ...rest }) => ({ ...rest, totalSats: total_amount }));
export type TxOutSetScan = z.infer<typeof scanTxOutSetSchema>;

export const hashSchema = hash256;
export const hexSchema = hex;
export const intSchema = int;
export const realSchema = real;
