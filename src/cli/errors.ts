/**
 * The one place that turns any error (the participant library's, protocol/'s
 * DlcError, src/wallet's WalletError, src/chain's ChainError, an HTTP
 * service's error answer) into the line printed on stderr and an exit code:
 * 2 for usage and configuration errors, 1 for everything else.
 *
 * This module does NOT print; main.ts does.
 */
import { isDlcError } from '../../protocol/errors.js';
import { isChainError } from '../chain/index.js';
import { ParticipantError } from '../participant/errors.js';
import { isWalletError } from '../wallet/index.js';

/** The stderr line and exit code for an error. */
export function describeError(err: unknown): { line: string; exitCode: number } {
  if (err instanceof ParticipantError) {
    const code = err.remoteCode === undefined ? err.code : `${err.code} ${err.remoteCode}`;
    const reason = err.reason === undefined ? '' : ` (${err.reason})`;
    return { line: `${code}${reason}: ${err.message}`, exitCode: err.code === 'USAGE' || err.code === 'CONFIG' ? 2 : 1 };
  }
  if (isDlcError(err)) return { line: `${err.code}${err.reason === undefined ? '' : ` (${err.reason})`}: ${err.message}`, exitCode: 1 };
  if (isWalletError(err)) return { line: `${err.code}: ${err.message}`, exitCode: 1 };
  if (isChainError(err)) return { line: `${err.code}: ${err.message}`, exitCode: 1 };
  if (err instanceof Error) return { line: `${err.name}: ${err.message}`, exitCode: 1 };
  return { line: `error: ${String(err)}`, exitCode: 1 };
}
