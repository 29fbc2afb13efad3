/**
 * The agent's policy: which roles it acts for and which steps it takes by
 * itself, read from a JSON file (zod-validated, unknown keys refused so a
 * typo is not silently ignored) and overridden by flags.
 *
 *   {
 *     "roles": ["offer", "accept"],     which side of a contract it acts for (default both)
 *     "autoSign": true,                 offerer: sign accepts of its own offers
 *     "autoFund": true,                 accepter: fund once the offerer signed
 *     "settle": true,                   settle at maturity
 *     "refund": true,                   refund after the refund locktime
 *     "cancelAtDeadline": true,         cancel an unfunded contract at its funding deadline
 *     "autoConsentTransfer": true,      offerer (stayer): consent to a taken position of its contract (issue 14)
 *     "autoRelease": true,              seller: release a position it listed once taken and consented
 *     "autoFundTransfer": true,         taker: fund a position it took once consented
 *     "maxFeeRatePerVb": 50,            never sign, fund or bump above this (sat/vB; default none)
 *     "bump": { "enabled": false, "afterBlocks": 6, "feeRatePerVb": 10 },
 *     "intervalSeconds": 30             time between passes
 *   }
 *
 * This module does NOT decide anything (decide.ts) and reads only the file it is given.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ParticipantError } from '../participant/errors.js';

export type AgentRole = 'offer' | 'accept';

export interface BumpPolicy {
  enabled: boolean;
  /** Blocks a transaction of ours waits unconfirmed in the mempool before it is bumped. */
  afterBlocks: number;
  /** The effective fee rate a bump aims for (sat/vB). */
  feeRatePerVb: bigint;
}

export interface AgentPolicy {
  roles: ReadonlySet<AgentRole>;
  autoSign: boolean;
  autoFund: boolean;
  settle: boolean;
  refund: boolean;
  cancelAtDeadline: boolean;
  /** Issue 14: the stayer consents to a taken position (the use case makes every check). */
  autoConsentTransfer: boolean;
  /** Issue 14: the seller releases its old funding input once the stayer consented. */
  autoRelease: boolean;
  /** Issue 14: the taker funds the transfer once the stayer consented. */
  autoFundTransfer: boolean;
  /** Upper bound for the funding fee rate of contracts it signs or funds, and for bumps; undefined: none. */
  maxFeeRatePerVb: bigint | undefined;
  bump: BumpPolicy;
  intervalSeconds: number;
}

export const DEFAULT_POLICY: AgentPolicy = {
  roles: new Set<AgentRole>(['offer', 'accept']),
  autoSign: true,
  autoFund: true,
  settle: true,
  refund: true,
  cancelAtDeadline: true,
  autoConsentTransfer: true,
  autoRelease: true,
  autoFundTransfer: true,
  maxFeeRatePerVb: undefined,
  bump: { enabled: false, afterBlocks: 6, feeRatePerVb: 10n },
  intervalSeconds: 30,
};

// Fee rates as JSON numbers or digit strings; bigint from here on (house style: no sats through number).
const satPerVb = z.union([z.number().int().positive().max(100_000), z.string().regex(/^[1-9]\d{0,5}$/)]).transform((v) => BigInt(v));

const fileSchema = z.strictObject({
  roles: z.array(z.enum(['offer', 'accept'])).min(1).optional(),
  autoSign: z.boolean().optional(),
  autoFund: z.boolean().optional(),
  settle: z.boolean().optional(),
  refund: z.boolean().optional(),
  cancelAtDeadline: z.boolean().optional(),
  autoConsentTransfer: z.boolean().optional(),
  autoRelease: z.boolean().optional(),
  autoFundTransfer: z.boolean().optional(),
  maxFeeRatePerVb: satPerVb.optional(),
  bump: z.strictObject({
    enabled: z.boolean().optional(),
    afterBlocks: z.number().int().min(1).max(10_000).optional(),
    feeRatePerVb: satPerVb.optional(),
  }).optional(),
  intervalSeconds: z.number().min(0.05).max(86_400).optional(),
});
export type PolicyFile = z.input<typeof fileSchema>;

/** What flags may override (undefined: keep the file's or the default). */
export interface PolicyOverrides {
  roles?: AgentRole[];
  autoSign?: boolean;
  autoFund?: boolean;
  autoConsentTransfer?: boolean;
  autoRelease?: boolean;
  autoFundTransfer?: boolean;
  maxFeeRatePerVb?: bigint;
  bumpAfterBlocks?: number;
  bumpFeeRatePerVb?: bigint;
  intervalSeconds?: number;
}

function policyError(reason: string, message: string, cause?: unknown): ParticipantError {
  return new ParticipantError('CONFIG', message, { reason, ...(cause === undefined ? {} : { cause }) });
}

/**
 * A policy from parsed JSON, over the defaults.
 * @throws {ParticipantError} CONFIG (`policy-shape`) naming the bad key.
 */
export function parsePolicy(json: unknown, source = 'the policy'): AgentPolicy {
  const r = fileSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw policyError('policy-shape', `${source}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const f = r.data;
  const d = DEFAULT_POLICY;
  return {
    roles: f.roles === undefined ? d.roles : new Set(f.roles),
    autoSign: f.autoSign ?? d.autoSign,
    autoFund: f.autoFund ?? d.autoFund,
    settle: f.settle ?? d.settle,
    refund: f.refund ?? d.refund,
    cancelAtDeadline: f.cancelAtDeadline ?? d.cancelAtDeadline,
    autoConsentTransfer: f.autoConsentTransfer ?? d.autoConsentTransfer,
    autoRelease: f.autoRelease ?? d.autoRelease,
    autoFundTransfer: f.autoFundTransfer ?? d.autoFundTransfer,
    maxFeeRatePerVb: f.maxFeeRatePerVb ?? d.maxFeeRatePerVb,
    bump: {
      enabled: f.bump?.enabled ?? d.bump.enabled,
      afterBlocks: f.bump?.afterBlocks ?? d.bump.afterBlocks,
      feeRatePerVb: f.bump?.feeRatePerVb ?? d.bump.feeRatePerVb,
    },
    intervalSeconds: f.intervalSeconds ?? d.intervalSeconds,
  };
}

/**
 * The policy in a JSON file.
 * @throws {ParticipantError} CONFIG: `policy-unreadable`, `policy-json`, `policy-shape`.
 */
export function readPolicyFile(path: string): AgentPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw policyError('policy-unreadable', `policy file ${path} cannot be read (${(cause as Error).message})`, cause);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw policyError('policy-json', `policy file ${path} is not JSON (${(cause as Error).message})`, cause);
  }
  return parsePolicy(json, `policy file ${path}`);
}

/**
 * The policy with flag overrides applied (a flag wins over the file). Setting
 * a bump parameter by flag turns bumping on.
 */
export function withOverrides(policy: AgentPolicy, o: PolicyOverrides): AgentPolicy {
  const bumpByFlag = o.bumpAfterBlocks !== undefined || o.bumpFeeRatePerVb !== undefined;
  return {
    ...policy,
    roles: o.roles === undefined ? policy.roles : new Set(o.roles),
    autoSign: o.autoSign ?? policy.autoSign,
    autoFund: o.autoFund ?? policy.autoFund,
    autoConsentTransfer: o.autoConsentTransfer ?? policy.autoConsentTransfer,
    autoRelease: o.autoRelease ?? policy.autoRelease,
    autoFundTransfer: o.autoFundTransfer ?? policy.autoFundTransfer,
    maxFeeRatePerVb: o.maxFeeRatePerVb ?? policy.maxFeeRatePerVb,
    bump: {
      enabled: bumpByFlag || policy.bump.enabled,
      afterBlocks: o.bumpAfterBlocks ?? policy.bump.afterBlocks,
      feeRatePerVb: o.bumpFeeRatePerVb ?? policy.bump.feeRatePerVb,
    },
    intervalSeconds: o.intervalSeconds ?? policy.intervalSeconds,
  };
}
