/**
 * `hashdlc agent`: runs this wallet's side of its contracts unattended
 * (src/agent/README.md). It holds the wallet lock for its whole life, logs
 * one line per action on stdout (`--json`: one JSON object per line), notes
 * on stderr, and stops cleanly on SIGTERM or SIGINT after the current action
 * (exit 0). `--once`: one pass, exit 0, or 1 when an action failed.
 *
 * This module does NOT decide or act (src/agent does).
 */
import {
  AgentJournal,
  AgentLoop,
  DEFAULT_POLICY,
  ParticipantObserver,
  participantActions,
  readPolicyFile,
  withOverrides,
  type AgentLogLine,
  type AgentPolicy,
  type AgentRole,
  type PolicyOverrides,
} from '../agent/index.js';
import { usage } from '../participant/errors.js';
import { Participant } from '../participant/participant.js';
import { COMMON_OPTIONS, bigintOpt, intOpt, list, parseOrHelp, str, type CommandSpec, type OptionValues } from './args.js';
import { loadConfig } from './config.js';

export const AGENT_SPEC: CommandSpec = {
  name: 'agent',
  summary: "Run this wallet's side of its contracts unattended: sign, fund, settle, refund, cancel at the deadline, bump.",
  details: [
    'Each pass (every --interval seconds) reads the contracts of this wallet, the coordinator\'s view of each',
    '(signed with the contract\'s identity key), the chain and the oracle, and takes the next step through the',
    'same code as the interactive commands, so it signs nothing they would refuse. Settle and refund need no',
    'coordinator. The wallet stays locked while the agent runs (other commands get WALLET_LOCKED: stop it first,',
    'or run --once from cron). Every action is journalled in <wallet dir>/agent.log.jsonl before and after it',
    'runs; after a crash the agent replays an unfinished action once and goes on. SIGTERM/SIGINT: finish the',
    'current action and exit 0. --once: one pass; exit 1 if an action failed.',
    'Policy file (JSON; flags win): see src/cli/README.md "hashdlc agent".',
  ],
  options: {
    // The usual configuration (wallet, network, services, node, threads); `--json` changes meaning: one object per line.
    ...COMMON_OPTIONS,
    json: { type: 'boolean', help: 'log one JSON object per line on stdout' },
    policy: { type: 'string', value: 'FILE', help: 'policy file (JSON)' },
    once: { type: 'boolean', help: 'one pass, then exit (for cron)' },
    interval: { type: 'string', value: 'S', help: 'seconds between passes (default 30)' },
    role: { type: 'string', value: 'offer|accept', multiple: true, help: 'act only for contracts of this role' },
    'no-auto-sign': { type: 'boolean', help: 'offerer: do not sign accepts (default: sign)' },
    'no-auto-fund': { type: 'boolean', help: 'accepter: do not fund signed contracts (default: fund)' },
    'no-auto-consent': { type: 'boolean', help: 'offerer: do not consent to taken positions of its contracts (default: consent)' },
    'no-auto-release': { type: 'boolean', help: 'seller: do not release listed positions once consented (default: release)' },
    'no-auto-fund-transfer': { type: 'boolean', help: 'taker: do not fund taken positions once consented (default: fund)' },
    'max-fee-rate': { type: 'string', value: 'SAT_PER_VB', help: 'never sign, fund or bump above this fee rate' },
    'bump-after': { type: 'string', value: 'BLOCKS', help: 'bump our transactions unconfirmed this many blocks (turns bumping on)' },
    'bump-fee-rate': { type: 'string', value: 'SAT_PER_VB', help: 'the effective fee rate a bump aims for (turns bumping on)' },
  },
};

/**
 * The policy flags as overrides.
 * @throws {ParticipantError} USAGE for a bad value.
 */
export function policyOverrides(values: OptionValues): PolicyOverrides {
  const o: PolicyOverrides = {};
  const roles = list(values, 'role');
  if (roles.length > 0) {
    for (const r of roles) if (r !== 'offer' && r !== 'accept') throw usage(`--role must be offer or accept, got '${r}'`);
    o.roles = roles as AgentRole[];
  }
  if (values['no-auto-sign'] === true) o.autoSign = false;
  if (values['no-auto-fund'] === true) o.autoFund = false;
  if (values['no-auto-consent'] === true) o.autoConsentTransfer = false;
  if (values['no-auto-release'] === true) o.autoRelease = false;
  if (values['no-auto-fund-transfer'] === true) o.autoFundTransfer = false;
  const positiveRate = (name: string): bigint | undefined => {
    const v = bigintOpt(values, name);
    if (v === 0n) throw usage(`--${name} must be at least 1 sat/vB`);
    return v;
  };
  const maxFee = positiveRate('max-fee-rate');
  if (maxFee !== undefined) o.maxFeeRatePerVb = maxFee;
  const bumpRate = positiveRate('bump-fee-rate');
  if (bumpRate !== undefined) o.bumpFeeRatePerVb = bumpRate;
  const after = intOpt(values, 'bump-after');
  if (after !== undefined) {
    if (after < 1) throw usage('--bump-after must be at least 1 block');
    o.bumpAfterBlocks = after;
  }
  const interval = str(values, 'interval');
  if (interval !== undefined) {
    const s = Number(interval);
    if (!/^\d+(\.\d+)?$/.test(interval) || s < 0.05 || s > 86_400) throw usage(`--interval must be a number of seconds from 0.05 to 86400, got '${interval}'`);
    o.intervalSeconds = s;
  }
  return o;
}

/** The human form of a log line. */
export function formatLogLine(l: AgentLogLine): string {
  const who = l.id === null ? '-' : l.id.slice(0, 16);
  const what = `${l.action}${l.replay === true ? ' (replay)' : ''}${l.positionId === undefined ? '' : ` position ${l.positionId}`}${l.txid === undefined ? '' : ` ${l.txid} to ${l.feeRatePerVb} sat/vB`}`;
  if (!l.ok) return `${l.at} ${who} ${what} FAILED ${l.error?.code ?? 'error'}: ${l.error?.message ?? ''}`;
  const r = l.result ?? {};
  const parts = [r.state === undefined ? '' : `state ${r.state}`, r.txid === undefined ? '' : `txid ${r.txid}`, r.alreadyDone === true ? 'already done' : ''].filter((s) => s !== '');
  return `${l.at} ${who} ${what} ok${parts.length > 0 ? ` ${parts.join(', ')}` : ''}${l.why === undefined ? '' : ` (${l.why})`}`;
}

export async function agentCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(AGENT_SPEC, argv);
  if (parsed === undefined) return 0;
  const policyPath = str(parsed.values, 'policy');
  const base: AgentPolicy = policyPath === undefined ? DEFAULT_POLICY : readPolicyFile(policyPath);
  const policy = withOverrides(base, policyOverrides(parsed.values));
  const config = loadConfig(parsed.values);
  const json = config.json;
  const p = new Participant(config, { note: (line) => process.stderr.write(`${line}\n`) });
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    // The lock first: a second agent (or any command) on this wallet fails with WALLET_LOCKED before anything runs.
    p.wallet();
    const loop = new AgentLoop({
      observer: new ParticipantObserver(p, { bump: policy.bump.enabled }),
      actions: participantActions(p),
      journal: new AgentJournal(config.walletDir),
      policy,
      log: (l) => process.stdout.write(`${json ? JSON.stringify(l) : formatLogLine(l)}\n`),
    });
    p.note(`agent: wallet ${config.walletDir}, roles ${[...policy.roles].join(',')}${parsed.values.once === true ? ', one pass' : `, every ${policy.intervalSeconds}s`}`);
    return await loop.run({ once: parsed.values.once === true, signal: stop.signal });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await p.close();
  }
}
