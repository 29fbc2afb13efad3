/**
 * The demo's two agents: `hashdlc agent --json` for the miner's wallet and
 * for the buyer's (src/agent/process.ts, real child processes), started
 * once the miner's offer and the buyer's accept are made (an agent holds
 * its wallet's lock for its whole life). From then on nothing is typed: the
 * miner's agent signs the accept, the buyer's funds; both keep watching
 * (and would settle or refund if the coordinator did not). Every action
 * line is shown as it arrives; `stop()` sends SIGTERM to both and waits.
 *
 * This module does NOT decide anything for the agents (src/agent does) and
 * does not tell the rest of the story (demo.ts does).
 */
import { startAgentProcess, type AgentLogLine, type AgentProcess } from '../agent/index.js';
import { short, type DemoAgents, type Say } from './demo.js';
import { StackError } from './errors.js';
import type { StackParticipant } from './participant.js';

export interface DemoAgentOptions {
  /** Seconds between the agents' passes (default 1). */
  intervalS?: number;
  /** How long the buyer's agent may take to fund once started, ms (default 180 s: two tsx start-ups on a loaded machine). */
  fundTimeoutMs?: number;
}

/** The demo's agents, once started; `stop()` ends them (SIGTERM). */
export interface RunningDemoAgents extends DemoAgents {
  /** SIGTERM to each running agent, then waits for its exit. @throws {StackError} STACK_SERVICE when one does not exit 0. */
  stop(): Promise<void>;
}


/** One agent log line as the demo shows it. */
export function describeAgentLine(l: AgentLogLine): string {
  const what = `${l.replay === true ? 'replayed ' : ''}${l.action}${l.id === null ? '' : ` ${short(l.id)}`}`;
  if (!l.ok) return `${what} FAILED: ${l.error?.code ?? '?'}: ${l.error?.message ?? ''}`;
  const r = l.result ?? {};
  const parts = [r.state === undefined ? undefined : `state ${r.state}`, r.txid === undefined ? undefined : `tx ${r.txid}`, r.alreadyDone === true ? 'already done' : undefined];
  return `${what} → ${parts.filter((p) => p !== undefined).join(', ') || 'done'}${l.why === undefined ? '' : ` (${l.why})`}`;
}

/**
 * The agents of `miner` and `buyer`, started by `signAndFund` (not before:
 * the offer and the accept take the wallets' locks themselves).
 */
export function demoAgents(miner: StackParticipant, buyer: StackParticipant, options: DemoAgentOptions = {}): RunningDemoAgents {
  const running: { who: string; agent: AgentProcess }[] = [];
  const interval = String(options.intervalS ?? 1);
  const start = (p: StackParticipant, who: string, say: Say): AgentProcess => {
    const agent = startAgentProcess({
      walletDir: p.walletDir,
      args: ['--interval', interval],
      env: p.env(),
      onLine: (l) => say(who, describeAgentLine(l)),
    });
    running.push({ who, agent });
    say(who, `$ ${p.commandLine(['agent', '--json', '--wallet-dir', p.walletDir, '--interval', interval])}  (pid ${agent.child.pid ?? '?'})`);
    return agent;
  };
  return {
    async signAndFund(id, say) {
      start(miner, 'miner agent', say);
      const buyerAgent = start(buyer, 'buyer agent', say);
      say('', 'nothing more is typed: the miner\'s agent signs the accept, the buyer\'s agent funds');
      const funded = await buyerAgent.waitFor((l) => l.id === id && l.action === 'fund', options.fundTimeoutMs ?? 180_000);
      if (!funded.ok || funded.result?.txid === undefined) {
        throw new StackError('STACK_COMMAND', `the buyer's agent did not fund ${id}: ${describeAgentLine(funded)}`);
      }
      return funded.result.txid;
    },
    async stop() {
      const failures: string[] = [];
      for (const { who, agent } of running.splice(0)) {
        try {
          await agent.stop();
        } catch (err) {
          failures.push(`${who}: ${(err as Error).message}`);
        }
      }
      if (failures.length > 0) throw new StackError('STACK_SERVICE', `an agent did not stop cleanly: ${failures.join('; ')}`);
    },
  };
}
