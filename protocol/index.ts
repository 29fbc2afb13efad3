/**
 * hashdlc's protocol library: Discreet Log Contracts as dlcspecs defines them,
 * and the hashpower contract templates. Pure: no network, storage, clock or
 * environment (lint-enforced). Each area has its own entry with explicit named
 * exports; this entry exposes them as namespaces so names never collide.
 *
 *   import { contract, messages } from './protocol/index.js';
 *   const setup = contract.setupContract(offer, accept);
 */
export * as contract from './contract/index.js';
export * as crypto from './crypto/index.js';
export * as events from './events/index.js';
export * as hashpower from './hashpower/index.js';
export * as messages from './messages/index.js';
export * as numeric from './numeric/index.js';
export * as templates from './templates/index.js';
export * as terms from './terms/index.js';
export * as tx from './tx/index.js';
export { DlcError, isDlcError } from './errors.js';
export type { DlcErrorCode } from './errors.js';
