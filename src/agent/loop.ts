/**
 * The agent's loop: at start, replay each journalled intent a crash left
 * without an outcome (the SAME action, once); then passes: observe, decide
 * per contract, and for each action journal the intent, run it, journal the
 * outcome and log one line. A failed action is not retried before the next
 * block (its facts cannot have changed much). A stop signal is honoured
 * between actions, never inside one.
 *
 * This module does NOT parse flags, print or install signal handlers
 * (src/cli/agent.ts does); it calls `log`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { errorCodeOf } from '../cli/errors.js';
import { runAction, type AgentActions } from './actions.js';
import { decide, type AgentAction, type AgentActionKind } from './decide.js';
import type { ActionFailure, ActionResult, AgentJournal } from './journal.js';
import type { AgentObserver } from './observe.js';
import type { AgentPolicy } from './policy.js';

/** One log line: an action's outcome, or a contract (or the whole pass, id null) that could not be observed. */
export interface AgentLogLine {
  at: string;
  id: string | null;
  action: AgentActionKind | 'observe';
  /** A replay of an intent a crash left without an outcome. */
  replay?: boolean;
  why?: string;
  txid?: string;
  feeRatePerVb?: string;
  /** Issue 14: the position of a consent, release or transfer funding. */
  positionId?: string;
  ok: boolean;
  result?: ActionResult;
  error?: ActionFailure;
}

export interface AgentDeps {
  observer: AgentObserver;
  actions: AgentActions;
  journal: AgentJournal;
  policy: AgentPolicy;
  log: (line: AgentLogLine) => void;
  /** The clock for journal and log times (tests fix it). */
  now?: () => Date;
}

/** What one pass (or the recovery) did. */
export interface PassReport {
  acted: number;
  failed: number;
}

/** The stable code and message of any error (the same codes the CLI prints: src/cli/errors.ts). */
export function failureOf(err: unknown): ActionFailure {
  return errorCodeOf(err);
}

function actionKey(a: AgentAction): string {
  if (a.kind === 'bump') return `bump:${a.txid}:${a.feeRatePerVb}`;
  return 'positionId' in a ? `${a.kind}:${a.id}:${a.positionId}` : `${a.kind}:${a.id}`;
}

export class AgentLoop {
  readonly #d: AgentDeps;
  readonly #now: () => Date;
  /** Actions that failed, with the tip they failed at: not retried at the same tip. */
  readonly #failedAt = new Map<string, number>();

  constructor(deps: AgentDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Journals, runs and logs one action; true when it succeeded. */
  async #act(action: AgentAction, replayOf?: number): Promise<boolean> {
    const { journal, actions, log } = this.#d;
    const seq = replayOf ?? journal.intent(action, this.#now().toISOString());
    const base: AgentLogLine = {
      at: '', id: action.id, action: action.kind, ok: false, why: action.why,
      ...(replayOf === undefined ? {} : { replay: true }),
      ...(action.kind === 'bump' ? { txid: action.txid, feeRatePerVb: action.feeRatePerVb.toString() } : {}),
      ...('positionId' in action ? { positionId: action.positionId } : {}),
    };
    try {
      const result = await runAction(actions, action);
      const at = this.#now().toISOString();
      journal.outcome(seq, at, { ok: true, result });
      log({ ...base, at, ok: true, result });
      return true;
    } catch (err) {
      const error = failureOf(err);
      const at = this.#now().toISOString();
      journal.outcome(seq, at, { ok: false, error });
      log({ ...base, at, error });
      return false;
    }
  }

  /**
   * Replays, once each, the intents a crash left without an outcome: the same
   * action with the same input (the use cases are idempotent), never a new decision.
   */
  async recover(signal?: AbortSignal): Promise<PassReport & { replayed: Set<string> }> {
    const report = { acted: 0, failed: 0, replayed: new Set<string>() };
    for (const intent of this.#d.journal.unfinished()) {
      if (signal?.aborted) break;
      report.replayed.add(intent.action.id);
      report.acted++;
      if (!(await this.#act(intent.action, intent.seq))) report.failed++;
    }
    return report;
  }

  /**
   * One pass: observe, decide each contract, act. `skip`: contracts not to
   * act on in this pass (just replayed).
   */
  async pass(signal?: AbortSignal, skip: ReadonlySet<string> = new Set()): Promise<PassReport> {
    const { observer, journal, policy, log } = this.#d;
    const report = { acted: 0, failed: 0 };
    let obs;
    try {
      obs = await observer.observe(journal);
    } catch (err) {
      log({ at: this.#now().toISOString(), id: null, action: 'observe', ok: false, error: failureOf(err) });
      return { acted: 0, failed: 1 };
    }
    for (const { id, error } of obs.errors) {
      log({ at: this.#now().toISOString(), id, action: 'observe', ok: false, error: failureOf(error) });
      report.failed++;
    }
    // One action once per pass, whatever number of contracts decide it (a strip's periods share one
    // funding transaction: decide gives its steps to period 1 alone; this is the second line of defence).
    const taken = new Set<string>();
    for (const facts of obs.facts) {
      if (signal?.aborted) break;
      if (skip.has(facts.id)) continue;
      const action = decide(facts, policy);
      if (action === null) continue;
      const key = actionKey(action);
      if (this.#failedAt.get(key) === obs.tip || taken.has(key)) continue;
      taken.add(key);
      report.acted++;
      if (await this.#act(action)) {
        this.#failedAt.delete(key);
      } else {
        this.#failedAt.set(key, obs.tip);
        report.failed++;
      }
    }
    return report;
  }

  /**
   * Recovers, then runs passes every `policy.intervalSeconds` until `signal`
   * aborts (exit code 0), or one pass with `once` (0, or 1 when an action or
   * an observation failed).
   */
  async run(options: { once: boolean; signal: AbortSignal }): Promise<number> {
    const { signal, once } = options;
    const recovered = await this.recover(signal);
    let failed = recovered.failed;
    let skip: ReadonlySet<string> = recovered.replayed;
    while (!signal.aborted) {
      const r = await this.pass(signal, skip);
      skip = new Set();
      failed += r.failed;
      if (once) return failed > 0 ? 1 : 0;
      await sleep(this.#d.policy.intervalSeconds * 1000, signal);
    }
    return once && failed > 0 ? 1 : 0;
  }
}

/**
 * Waits `ms`, or less when `signal` aborts: an abort RESOLVES (the loop then
 * sees `signal.aborted` and returns 0), it never rejects.
 */
async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    // node:timers/promises rejects with an AbortError on abort; that is the stop we wait for.
    if (!signal.aborted) throw err;
  }
}
