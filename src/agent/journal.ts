/**
 * The agent's journal, `<wallet dir>/agent.log.jsonl` (mode 0600): one JSON
 * line per event, appended and fsynced before the agent goes on.
 *
 *   {"seq":7,"at":"...","type":"intent","action":{"kind":"sign","id":"<offer id>","why":"..."}}
 *   {"seq":7,"at":"...","type":"outcome","ok":true,"result":{"txid":"...","state":"signed"}}
 *   {"seq":8,"at":"...","type":"outcome","ok":false,"error":{"code":"NOT_READY","message":"..."}}
 *
 * An intent is written before its action starts and its outcome after it
 * ends, so an intent without an outcome is an action a crash interrupted:
 * the loop replays exactly that action once at the next start. A torn last
 * line (a crash inside the write) is skipped: its action never started.
 *
 * This module does NOT decide or run actions, and holds no lock (the agent
 * holds the wallet's).
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { fsyncDirectory } from '../wallet/index.js';
import type { AgentAction } from './decide.js';

/** What an action reports, for the log line and the journal. */
export interface ActionResult {
  txid?: string;
  state?: string;
  /** The use case found the step done already (a repeat after a crash). */
  alreadyDone?: boolean;
}

export interface ActionFailure {
  code: string;
  message: string;
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const actionSchema = z.union([
  z.object({ kind: z.enum(['sign', 'fund', 'settle', 'refund', 'cancel']), id: hex64, why: z.string() }),
  z.object({ kind: z.literal('bump'), id: hex64, txid: hex64, feeRatePerVb: z.string().regex(/^\d+$/).transform((s) => BigInt(s)), why: z.string() }),
  z.object({ kind: z.enum(['consent', 'release', 'fundTransfer', 'dropTransfer']), id: hex64, positionId: z.string().regex(/^[0-9a-f]{8,64}$/), why: z.string() }),
]);
const entrySchema = z.discriminatedUnion('type', [
  z.object({ seq: z.number().int().nonnegative(), at: z.string(), type: z.literal('intent'), action: actionSchema }),
  z.object({
    seq: z.number().int().nonnegative(),
    at: z.string(),
    type: z.literal('outcome'),
    ok: z.boolean(),
    result: z.object({ txid: z.string().optional(), state: z.string().optional(), alreadyDone: z.boolean().optional() }).optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  }),
]);
export type JournalEntry = z.output<typeof entrySchema>;
export type IntentEntry = Extract<JournalEntry, { type: 'intent' }>;

export const JOURNAL_FILE = 'agent.log.jsonl';

export class AgentJournal {
  readonly path: string;
  #nextSeq = 0;
  #exists = false;
  /** Intents without an outcome, by seq. */
  readonly #open = new Map<number, IntentEntry>();
  /** Successful bumps: txid -> highest target rate. */
  readonly #bumped = new Map<string, bigint>();

  /** Opens (or starts) the journal of a wallet directory, reading what is there. */
  constructor(walletDir: string) {
    this.path = join(walletDir, JOURNAL_FILE);
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
      this.#exists = true;
    } catch {
      // No journal yet: a first start.
    }
    const intents = new Map<number, IntentEntry>();
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let parsed: ReturnType<typeof entrySchema.safeParse>;
      try {
        parsed = entrySchema.safeParse(JSON.parse(line));
      } catch {
        continue; // a torn line: its write never completed, so its action never started
      }
      if (!parsed.success) continue;
      this.#apply(parsed.data, intents);
    }
  }

  #apply(e: JournalEntry, intents: Map<number, IntentEntry>): void {
    this.#nextSeq = Math.max(this.#nextSeq, e.seq + 1);
    if (e.type === 'intent') {
      intents.set(e.seq, e);
      this.#open.set(e.seq, e);
      return;
    }
    this.#open.delete(e.seq);
    const intent = intents.get(e.seq);
    if (!e.ok || intent === undefined) return;
    const a = intent.action;
    if (a.kind === 'bump' && (this.#bumped.get(a.txid) ?? 0n) < a.feeRatePerVb) this.#bumped.set(a.txid, a.feeRatePerVb);
  }

  /** Intents a crash left without an outcome, oldest first. */
  unfinished(): IntentEntry[] {
    return [...this.#open.values()].sort((a, b) => a.seq - b.seq);
  }

  /** The highest rate a successful bump of `txid` aimed for. */
  bumpedTo(txid: string): bigint | undefined {
    return this.#bumped.get(txid);
  }

  /** Records (durably) that `action` is about to run; returns its seq. */
  intent(action: AgentAction, at: string): number {
    const e: IntentEntry = { seq: this.#nextSeq, at, type: 'intent', action };
    this.#append(e);
    this.#apply(e, new Map([[e.seq, e]]));
    return e.seq;
  }

  /** Records (durably) how the action of intent `seq` ended. */
  outcome(seq: number, at: string, outcome: { ok: true; result: ActionResult } | { ok: false; error: ActionFailure }): void {
    const intent = this.#open.get(seq);
    const e: JournalEntry = { seq, at, type: 'outcome', ...outcome };
    this.#append(e);
    this.#apply(e, intent === undefined ? new Map() : new Map([[seq, intent]]));
  }

  #append(e: JournalEntry): void {
    const line = `${JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`;
    const fd = openSync(this.path, 'a', 0o600);
    try {
      writeSync(fd, line);
      // The intent must be on disk before the action starts: after a crash it is what says "replay me".
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // A new journal is itself an entry of the wallet directory: flushed too.
    if (!this.#exists) fsyncDirectory(dirname(this.path));
    this.#exists = true;
  }
}
