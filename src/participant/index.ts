/**
 * src/participant: the participant library (use cases over ports). One entry
 * with explicit named exports; each helper appends its own.
 */
export { Participant } from './participant.js';
export type { ParticipantOutput } from './participant.js';
export type { ParticipantConfig } from './config.js';
export { ParticipantError } from './errors.js';
export type { ParticipantErrorCode } from './errors.js';
// fees: wallet use cases, `wallet send`, `bump` (helper E)
export { initWallet, newAddress, walletBalance, sendFromWallet, chooseSendCoins } from './wallet.js';
export type { InitWalletInput, InitWalletResult, NewAddressResult, WalletBalanceResult, WalletCoin, SendInput, SendResult } from './wallet.js';
export { bumpTransaction } from './bump.js';
export type { BumpInput, BumpMethod, BumpResult } from './bump.js';
export { P2WPKH_SPK_LEN, cpfpChildFee, feeFor, isDust, p2wpkhSpendVsize, packageOf, ratePerVb, reachesRate, replacementFee } from './fees.js';
export type { FeeAndSize } from './fees.js';
// oracle verification (helper C)
export { verifyOracleEvent } from './oracle-verify.js';
export type { VerifyCheck, VerifyOptions, VerifyReport } from './oracle-verify.js';
