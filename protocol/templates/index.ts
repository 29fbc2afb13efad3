/**
 * Contract templates: human terms in, a validated dlcspecs numeric contract
 * descriptor (plus collaterals, extra funding outputs, CET count and a
 * summary) out. The one entry of protocol/templates. Nothing here creates
 * oracle announcements or transactions, or does I/O.
 */
export {
  DEFAULT_PAYOUT_STEPS,
  acceptPaidOutput,
  clampedLineCurve,
  defaultRoundingMod,
  interiorRounding,
} from './common.js';
export type {
  BuiltCurve,
  ClampedLine,
  KeyPayout,
  NumericEvent,
  TemplateKind,
  TemplateResult,
  TemplateSummary,
} from './common.js';
export { hashpowerSale } from './sale.js';
export type { HashpowerSaleTerms } from './sale.js';
export { hashpriceCall, hashpriceForward } from './hashprice.js';
export type { HashpriceCallTerms, HashpriceForwardTerms } from './hashprice.js';
export { customCurve, parseCustomCurveJson } from './custom.js';
export type { CustomCurveSpec, CustomCurveTerms } from './custom.js';
