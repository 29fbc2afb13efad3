/**
 * The participant library's entry: a `Participant` (configuration and
 * ports) and the use cases over it. Each use case takes `(p, input)` with a
 * typed input and returns a typed result; none prints, reads the
 * environment or exits (src/cli formats and prints, the agent logs).
 *
 * This module does NOT implement anything; it names what the library exports.
 */
export { Participant, type ParticipantOutput } from './participant.js';
export { needCoordinator, needOracle, needRpc, type ParticipantConfig } from './config.js';
export { ParticipantError, usage, type ParticipantErrorCode } from './errors.js';
export type { Progress } from './progress.js';
export { openContract, type OpenStep } from './open.js';
export {
  listOffers,
  makeOffer,
  showOffer,
  type BlockWindow,
  type OfferCommon,
  type OfferDetails,
  type OfferInput,
  type OfferQuery,
  type OfferResult,
  type OfferRow,
  type OfferTemplateName,
} from './offer.js';
export {
  acceptOffer,
  fundContract,
  oneExternalRun,
  signContract,
  type AcceptInput,
  type AcceptResult,
  type ExternalPsbtInput,
  type FundResult,
  type PsbtOutResult,
  type SignResult,
} from './negotiate.js';
