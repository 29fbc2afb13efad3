/**
 * A participant of the stack (the demo's and the scenario suite's miner and
 * buyer): its wallet directory and the services it talks to, and one method
 * per step (`offer`, `accept`, `sign`, `fund`, `settle`, `refund`, `close`,
 * `cancel`, `address`, `balance`, `status`) that runs the participant
 * library's use case (src/participant) and returns its typed result. Each
 * step builds a library `Participant` from these settings (no environment,
 * no stdout), runs the use case and closes it (the wallet lock is held for
 * the step only, as a `hashdlc` command holds it for its run).
 *
 * A failing step throws the library's own error unchanged (`ParticipantError`
 * with its code and reason, or the wallet's, chain's, protocol's error): the
 * same values the CLI turns into its error line.
 *
 * `commandLine(args)` and `offerArgs(input)` render the `hashdlc` command a
 * user would type for a step (the demo prints them); nothing here runs the CLI.
 *
 * This module does NOT implement any step (src/participant does).
 */
import type { RpcConfig } from '../chain/index.js';
import {
  acceptOffer,
  cancelContract,
  closeContract,
  contractStatus,
  fundContract,
  makeOffer,
  newAddress,
  Participant as LibraryParticipant,
  refundContract,
  settleContract,
  signContract,
  walletBalance,
  type AcceptInput,
  type AcceptResult,
  type CancelInput,
  type CancelledResult,
  type CancelPsbtResult,
  type CloseInput,
  type CloseResult,
  type ExternalPsbtInput,
  type FundResult,
  type OfferInput,
  type OfferResult,
  type ParticipantConfig,
  type RefundResult,
  type SettleResult,
  type SignResult,
  type StatusResult,
  type WalletBalanceResult,
} from '../participant/index.js';
import { Wallet } from '../wallet/index.js';
import { StackError } from './errors.js';

/** What a participant connects to. */
export interface ParticipantServices {
  rpc: RpcConfig;
  coordinator: string;
  /** The oracles this participant trusts (as `--oracle`, repeated). */
  oracles: string[];
  /** Pin the oracles' keys (as `--oracle-pubkey`, repeated). */
  oraclePubkeys?: string[];
  /** K of its offers' oracle sets; accepting, the least K it takes (as `--threshold`). */
  oracleThreshold?: number;
  /** Signing worker threads; default: the library's (all cores). */
  threads?: number;
}

/** Quotes an argument for display as a shell command. */
function shellWord(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

/** `--name value` for each defined value (bigints and numbers in decimal). */
function flags(pairs: [string, string | bigint | number | undefined][]): string[] {
  return pairs.flatMap(([name, v]) => (v === undefined ? [] : [`--${name}`, String(v)]));
}

/**
 * The `hashdlc offer ...` arguments a user would type for `input` (display
 * only: the step itself runs the library). Custom curves are named by
 * `--curve CURVE.json`, since the input carries the curve's text, not a file.
 */
export function offerArgs(input: OfferInput): string[] {
  const common = flags([
    ['event', input.eventId],
    ['window', input.window === undefined ? undefined : `${input.window.start}-${input.window.end}`],
    ['periods', input.periods],
    ['period-blocks', input.periodBlocks],
  ]);
  const tail = [
    ...flags([
      ['collateral', input.collateral],
      ['rounding-mod', input.roundingMod],
      ['cet-locktime', input.cetLocktime],
      ['refund-locktime', input.refundLocktime],
      ['funding-deadline', input.fundingDeadline],
      ['fee-rate', input.feeRatePerVb],
      ['payout-address', input.payoutAddress],
      ['change-address', input.changeAddress],
    ]),
    ...(input.utxos ?? []).flatMap((u) => ['--utxo', u]),
    ...(input.dryRun === true ? ['--dry-run'] : []),
  ];
  switch (input.template) {
    case 'hashpower':
      return [
        'offer', 'hashpower', ...common,
        ...flags([
          ['hashrate', input.hashrateThs],
          ['delivery-address', input.deliveryAddress],
          ['upfront', input.upfront === 0n ? undefined : input.upfront],
          ['escrow', input.escrow],
          ['tolerance', input.toleranceBps],
          ['nb-digits', input.nbDigits],
          ['pool-share-bps', input.poolShareBps],
          ['payout-scheme', input.payoutScheme],
          ['payout-lag-blocks', input.payoutLagBlocks === 0 ? undefined : input.payoutLagBlocks],
        ]),
        ...(input.poolPayoutAddresses ?? []).flatMap((a) => ['--pool-payout-address', a]),
        ...tail,
      ];
    case 'hashprice-forward':
      return ['offer', 'hashprice-forward', ...common, ...flags([['hashrate', input.hashrateThs], ['strike', input.strikeSatsPerPhDay], ['buyer-collateral', input.buyerCollateral]]), ...tail];
    case 'hashprice-call':
      return ['offer', 'hashprice-call', ...common, ...flags([['hashrate', input.hashrateThs], ['strike', input.strikeSatsPerPhDay], ['premium', input.premium]]), ...tail];
    case 'custom':
      return ['offer', 'custom', ...common, '--curve', 'CURVE.json', ...flags([['accept-collateral', input.acceptCollateral], ['unit', input.unit]]), ...tail];
  }
}

/** An offer that was posted (not a dry run). */
export type PostedOffer = Extract<OfferResult, { dryRun: false }>;
/** An accept that was signed and sent (not a dry run). */
export type SentAccept = Extract<AcceptResult, { dryRun: false }>;

export class StackParticipant {
  readonly name: string;
  readonly walletDir: string;
  services: ParticipantServices;
  /** Receives the library's notes for the user (default: dropped). */
  onNote: (line: string) => void = () => undefined;

  constructor(name: string, walletDir: string, services: ParticipantServices) {
    this.name = name;
    this.walletDir = walletDir;
    this.services = services;
  }

  /** The participant's wallet (src/wallet), opened from its directory without its lock. @throws {WalletError} */
  wallet(): Wallet {
    return Wallet.open(this.walletDir, { expectNetwork: 'regtest' });
  }

  /** The library configuration of this participant (regtest; the fee rate is each step's default). */
  config(): ParticipantConfig {
    const s = this.services;
    return {
      network: 'regtest',
      networkGiven: true,
      walletDir: this.walletDir,
      coordinator: s.coordinator,
      oracles: s.oracles,
      oraclePubkeys: s.oraclePubkeys ?? [],
      oracleThreshold: s.oracleThreshold,
      rpc: s.rpc,
      feeRatePerVb: undefined,
      threads: s.threads,
    };
  }

  /**
   * The `HASHDLC_*` variables that carry these settings to a `hashdlc`
   * child process (an agent, a command run as a user would); this process's
   * own environment is never touched.
   */
  env(): Record<string, string> {
    const s = this.services;
    const vars: Record<string, string | undefined> = {
      HASHDLC_WALLET_DIR: this.walletDir,
      HASHDLC_NETWORK: 'regtest',
      HASHDLC_RPC_URL: s.rpc.url,
      HASHDLC_RPC_USER: s.rpc.username,
      HASHDLC_RPC_PASSWORD: s.rpc.password,
      HASHDLC_COORDINATOR: s.coordinator,
      HASHDLC_ORACLE: s.oracles.join(','),
      HASHDLC_ORACLE_PUBKEY: s.oraclePubkeys === undefined || s.oraclePubkeys.length === 0 ? undefined : s.oraclePubkeys.join(','),
      HASHDLC_ORACLE_THRESHOLD: s.oracleThreshold === undefined ? undefined : String(s.oracleThreshold),
      HASHDLC_THREADS: s.threads === undefined ? undefined : String(s.threads),
    };
    return Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => e[1] !== undefined));
  }

  /** The command as the user would type it (settings in the environment, `env()`). */
  commandLine(args: readonly string[]): string {
    return ['hashdlc', ...args].map(shellWord).join(' ');
  }

  /**
   * Runs one use case with a library participant built for it, closed after
   * (wallet lock released, signing workers stopped) whatever the outcome.
   * @throws whatever the use case throws, unchanged.
   */
  async step<T>(useCase: (p: LibraryParticipant) => Promise<T>): Promise<T> {
    const p = new LibraryParticipant(this.config(), { note: (line) => this.onNote(line) });
    try {
      return await useCase(p);
    } finally {
      await p.close();
    }
  }

  /** A receive address never handed out before (`hashdlc wallet address`). */
  async address(): Promise<string> {
    return (await this.step((p) => newAddress(p))).address;
  }

  /** `hashdlc wallet balance`. */
  balance(): Promise<WalletBalanceResult> {
    return this.step((p) => walletBalance(p));
  }

  /**
   * `hashdlc offer ...`: posts the offer.
   * @throws {StackError} STACK_CONFIG for a dry-run input (use `step` with makeOffer); the library's errors.
   */
  async offer(input: OfferInput): Promise<PostedOffer> {
    if (input.dryRun === true) throw new StackError('STACK_CONFIG', `${this.name}: offer() posts; a dry run goes through step(makeOffer)`);
    const r = await this.step((p) => makeOffer(p, input));
    if (r.dryRun) throw new StackError('STACK_COMMAND', `${this.name}: the offer was not posted`);
    return r;
  }

  /**
   * `hashdlc accept <id>`: checks the offer, signs and sends the accept.
   * @throws {StackError} STACK_CONFIG for a dry-run input; the library's errors.
   */
  async accept(id: string, more: Omit<AcceptInput, 'id'> = {}): Promise<SentAccept> {
    if (more.dryRun === true) throw new StackError('STACK_CONFIG', `${this.name}: accept() sends; a dry run goes through step(acceptOffer)`);
    const r = await this.step((p) => acceptOffer(p, { id, ...more }));
    if (r.dryRun) throw new StackError('STACK_COMMAND', `${this.name}: the accept was not sent`);
    return r;
  }

  /** `hashdlc sign <id> [--psbt-out | --psbt-in]`. */
  sign(id: string, more: ExternalPsbtInput = {}): Promise<SignResult> {
    return this.step((p) => signContract(p, { id, ...more }));
  }

  /** `hashdlc fund <id> [--broadcast] [--psbt-out | --psbt-in]`. */
  fund(id: string, more: { broadcast?: boolean } & ExternalPsbtInput = {}): Promise<FundResult> {
    return this.step((p) => fundContract(p, { id, ...more }));
  }

  /** `hashdlc settle <id>`. */
  settle(id: string): Promise<SettleResult> {
    return this.step((p) => settleContract(p, { id }));
  }

  /** `hashdlc refund <id>`. */
  refund(id: string): Promise<RefundResult> {
    return this.step((p) => refundContract(p, { id }));
  }

  /** `hashdlc close <id> --offer-payout SATS [--accept-payout SATS]`. */
  close(input: CloseInput): Promise<CloseResult> {
    return this.step((p) => closeContract(p, input));
  }

  /** `hashdlc cancel <id>`. */
  cancel(id: string, more: Omit<CancelInput, 'id'> = {}): Promise<CancelledResult | CancelPsbtResult> {
    return this.step((p) => cancelContract(p, { id, ...more }));
  }

  /** `hashdlc status <id>`. */
  status(id: string): Promise<StatusResult> {
    return this.step((p) => contractStatus(p, { id }));
  }
}
