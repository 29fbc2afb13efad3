/**
 * `src/agent`: the participant that runs itself (`hashdlc agent`). One entry
 * with explicit named exports; see README.md beside this file.
 *
 * This module does NOT re-export internals wholesale.
 */
export { participantActions } from './actions.js';
export type { AgentActions } from './actions.js';
export { decide } from './decide.js';
export type { AgentAction, AgentActionKind } from './decide.js';
export type { ContractFacts, CoordinatorFact, PendingTxFact } from './facts.js';
export { AgentJournal, JOURNAL_FILE } from './journal.js';
export type { ActionFailure, ActionResult, IntentEntry, JournalEntry } from './journal.js';
export { AgentLoop, failureOf } from './loop.js';
export type { AgentDeps, AgentLogLine, PassReport } from './loop.js';
export { ParticipantObserver, factsOf, fundingTxidOf } from './observe.js';
export type { AgentObserver, Fetched, JournalView, Observation } from './observe.js';
export { DEFAULT_POLICY, parsePolicy, readPolicyFile, withOverrides } from './policy.js';
export type { AgentPolicy, AgentRole, BumpPolicy, PolicyFile, PolicyOverrides } from './policy.js';
export { AgentProcess, startAgentProcess } from './process.js';
export type { AgentProcessOptions } from './process.js';
