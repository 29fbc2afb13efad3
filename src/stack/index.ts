/**
 * src/stack: the local stack behind `npm start` and `npm run demo` (regtest
 * node, oracle (three by default) and coordinator processes (one, or replicas
 * on PostgreSQL), demo wallets, state file), the
 * demo story, and the plumbing the scenario suite shares with it (library
 * participants, contract observation). One entry, explicit named exports.
 *
 * This package does NOT implement any service: it starts and drives them.
 */
export {
  DEFAULT_PORTS,
  MAX_COORDINATOR_REPLICAS,
  STACK_FLAGS,
  STACK_FLAGS_HELP,
  STACK_HASHPRICE_SCHEDULE,
  STACK_SIMULATED_DIFFICULTY,
  coordinatorPortChoice,
  oraclePortChoice,
  parseStackArgs,
  redactDatabaseUrl,
  stackConfigFrom,
} from './config.js';
export type { PortChoice, StackConfig } from './config.js';
export { DEMO_LUCK_POOL_SHARE_BPS, DEMO_POOLS, DEMO_TEMPLATES, demoPoolTerms, runDemo, poolShareBps } from './demo.js';
export type { DemoAgents, DemoOptions, DemoPool, DemoResult, DemoServices, DemoTemplate, Say } from './demo.js';
export { parseDeliverySchedule, runStripDemo } from './demo-strip.js';
export type { StripDemoOptions, StripDemoResult, StripPeriodResult } from './demo-strip.js';
export { defaultTransferPrice, runTransferDemo } from './demo-transfer.js';
export type { TransferDemoOptions, TransferDemoResult, TransferDemoServices } from './demo-transfer.js';
export { demoAgents, describeAgentLine } from './demo-agents.js';
export type { DemoAgentOptions, RunningDemoAgents } from './demo-agents.js';
export { StackError, isStackError } from './errors.js';
export type { StackErrorCode } from './errors.js';
export { ensurePoolFunds, ensureWalletFunds, openOrCreateWallet } from './funds.js';
export type { WalletFunding } from './funds.js';
export { coordinatorLayout, loadOrCreateSecrets, oracleLayout, readChainRecord, readStackState, removeStackState, stackLayout, writeChainRecord, writeStackState } from './layout.js';
export type { ChainRecord, CoordinatorLayout, OracleLayout, StackLayout, StackSecrets, StackState } from './layout.js';
export {
  contractView,
  curvePayouts,
  offerHexOf,
  offerOracleSet,
  onChainPayouts,
  onChainValue,
  waitForAttestation,
  waitForAttestations,
  waitForContractState,
} from './observe.js';
export type { AttestationView, ContractView, Payouts } from './observe.js';
export type { SetOracle } from '../participant/index.js';
export { StackParticipant, offerArgs } from './participant.js';
export type { ParticipantServices, PostedOffer, SentAccept } from './participant.js';
export { choosePort, choosePorts, isPortFree, logTail, spawnService } from './services.js';
export type { ServiceExit, ServiceKind, ServiceProcess } from './services.js';
export { answers, probeDashboard, runningStackState, startStack } from './stack.js';
export type { RunningStack, StartStackOptions } from './stack.js';
