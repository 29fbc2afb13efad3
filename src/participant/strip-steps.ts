/**
 * Steps after funding on a strip (issue 12): which period records a step on
 * an id covers, running a step period by period, and errors that name the
 * period. A strip is N period contracts funded by one transaction; after
 * funding each period is its own DLC (its own CETs, refund and close), so
 * `settle`, `refund` and `close` run the single-contract use case once per
 * period and report each period.
 *
 * Which periods an id names (`stripTargets`):
 * - the strip id (period 1's offer id), without `period`: every period;
 * - another period's offer id or contract id: that period alone;
 * - `period` K (1-based) with any id of the strip: period K alone;
 * - a single contract: itself (`period` refused).
 *
 * This module does NOT sign, broadcast or talk to anyone.
 */
import { DlcError } from '../../protocol/errors.js';
import { namedPeriod } from '../../protocol/terms/index.js';
import type { ContractRecord, LocalState, Wallet } from '../wallet/index.js';
import { ParticipantError, usage } from './errors.js';
import { stripRecords } from './strip.js';

/** The records a step covers, and the strip they belong to (undefined for a single contract). */
export interface StripTargets {
  records: ContractRecord[];
  /** The strip (id and number of periods), or undefined for a single contract. */
  strip: { id: string; periods: number } | undefined;
  /** True when the step covers the whole strip (the strip id named, no `period`). */
  whole: boolean;
}

/**
 * The records a step on `id` covers (module header).
 * @throws {WalletError} WALLET_CONTRACT_NOT_FOUND; {ParticipantError} USAGE (`period` out of range or not a strip).
 */
export function stripTargets(wallet: Wallet, id: string, period?: number): StripTargets {
  const record = wallet.contracts.get(id);
  const all = stripRecords(wallet, id);
  if (all === undefined || record.strip === undefined) {
    if (period !== undefined) throw usage(`contract ${record.id} is not a strip: --period applies to strips only`);
    return { records: [record], strip: undefined, whole: false };
  }
  const strip = { id: record.strip.id, periods: record.strip.batch.contracts.length };
  if (all.length !== strip.periods) {
    throw new ParticipantError('STATE', `strip ${strip.id} has ${strip.periods} periods, this wallet holds ${all.length} of them`, { reason: 'strip-records' });
  }
  if (period !== undefined) {
    if (!Number.isInteger(period) || period < 1 || period > strip.periods) throw usage(`--period must be 1 to ${strip.periods} for strip ${strip.id}`);
    return { records: [all[period - 1]!], strip, whole: false };
  }
  if (record.id === strip.id) return { records: all, strip, whole: true };
  return { records: [record], strip, whole: false };
}

/** The 1-based period of a strip record (undefined for a single contract). */
export function periodOf(record: Pick<ContractRecord, 'strip'>): number | undefined {
  return record.strip === undefined ? undefined : record.strip.batch.index + 1;
}

/**
 * The error re-made to name period `period` (1-based): a ParticipantError
 * keeps its code, reason and remote code; a DlcError gets protocol/terms
 * `namedPeriod`'s `details.period`; anything else gets the period in front
 * of its message (its class and code kept).
 */
export function inPeriodError(e: unknown, period: number): unknown {
  if (e instanceof ParticipantError) {
    if (e.message.startsWith(`period ${period}: `)) return e;
    return new ParticipantError(e.code, `period ${period}: ${e.message}`, {
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
      ...(e.remoteCode !== undefined ? { remoteCode: e.remoteCode } : {}),
      cause: e,
    });
  }
  if (e instanceof DlcError) return namedPeriod(e, period - 1);
  if (e instanceof Error && !e.message.startsWith(`period ${period}: `)) e.message = `period ${period}: ${e.message}`;
  return e;
}

/** How one period's step went. */
export type PeriodStepStatus =
  /** Done now (or found done: the result says `alreadyBroadcast`). */
  | 'done'
  /**
   * Ended before (settled, refunded, closed, cancelled, failed), or its funding output is spent by
   * someone else's transaction (STATE `funding-spent`, kept in `error`): nothing to do.
   */
  | 'ended'
  /** Not possible yet (ParticipantError NOT_READY: not attested, locktime not reached). */
  | 'waiting'
  /** Any other error (kept in `error`, naming the period). */
  | 'failed';

/** One period's part in a strip step. */
export interface PeriodStep<T> {
  /** 1-based. */
  period: number;
  id: string;
  status: PeriodStepStatus;
  /** The local state after the step. */
  state: LocalState;
  result?: T;
  /** Why it waits or failed (the error naming the period). */
  error?: unknown;
}

/** Local states in which a period has nothing left to settle, refund or close. */
export const PERIOD_ENDED: ReadonlySet<LocalState> = new Set(['settled', 'refunded', 'closed', 'cancelled', 'failed']);

/** Ended states that say the funding output was spent (by us, or on the coordinator's word through `status`). */
const CLOSED_STATES: ReadonlySet<LocalState> = new Set(['settled', 'refunded', 'closed']);

/**
 * Runs `step` for each record in order, each period on its own: an ended
 * period is skipped, NOT_READY is `waiting`, any other error is `failed`
 * (named after the period) and the next period goes on.
 *
 * `outputUnspent` (the node's word): a period recorded settled, refunded or
 * closed is run again when its funding output is in fact unspent. The record
 * may hold the coordinator's word alone (`status` follows its view): a
 * coordinator saying "settled" of a period nobody settled would otherwise
 * keep that period from ever being settled or refunded by the strip steps
 * (a single contract's settle runs whatever its record says).
 */
export async function eachPeriod<T>(
  wallet: Wallet,
  records: readonly ContractRecord[],
  step: (record: ContractRecord) => Promise<T>,
  outputUnspent?: (record: ContractRecord) => Promise<boolean>,
): Promise<PeriodStep<T>[]> {
  const out: PeriodStep<T>[] = [];
  for (const r of records) {
    const period = periodOf(r) ?? 1;
    const live = CLOSED_STATES.has(r.state) && outputUnspent !== undefined && (await outputUnspent(r).catch(() => false));
    if (PERIOD_ENDED.has(r.state) && !live) {
      out.push({ period, id: r.id, status: 'ended', state: r.state });
      continue;
    }
    try {
      const result = await step(r);
      out.push({ period, id: r.id, status: 'done', state: wallet.contracts.get(r.id).state, result });
    } catch (e) {
      const error = inPeriodError(e, period);
      const waiting = e instanceof ParticipantError && e.code === 'NOT_READY';
      const ended = e instanceof ParticipantError && e.reason === 'funding-spent';
      out.push({ period, id: r.id, status: ended ? 'ended' : waiting ? 'waiting' : 'failed', state: wallet.contracts.get(r.id).state, error });
    }
  }
  return out;
}

/**
 * The error a whole-strip step ends with: the first failed period's, else
 * (nothing done now or before) the first waiting period's; undefined when
 * the step did what it could.
 */
export function stripStepError<T>(steps: readonly PeriodStep<T>[]): unknown {
  const failed = steps.find((s) => s.status === 'failed');
  if (failed !== undefined) return failed.error;
  if (steps.some((s) => s.status === 'done')) return undefined;
  return steps.find((s) => s.status === 'waiting')?.error;
}
