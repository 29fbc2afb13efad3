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

/**
 * The stable code (with the remote code and reason, when there are any) and
 * the message of any error: the two halves of the stderr line, and what the
 * agent journals and logs for a failed action.
 */
export function errorCodeOf(err: unknown): { code: string; message: string } {
  if (err instanceof ParticipantError) {
    const code = err.remoteCode === undefined ? err.code : `${err.code} ${err.remoteCode}`;
    return { code: err.reason === undefined ? code : `${code} (${err.reason})`, message: err.message };
  }
  if (isDlcError(err)) return { code: err.reason === undefined ? err.code : `${err.code} (${err.reason})`, message: err.message };
  if (isWalletError(err) || isChainError(err)) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: err.name, message: err.message };
  return { code: 'error', message: String(err) };
}

/** The stderr line and exit code for an error. */
export function describeError(err: unknown): { line: string; exitCode: number } {
  const { code, message } = errorCodeOf(err);
  const usage = err instanceof ParticipantError && (err.code === 'USAGE' || err.code === 'CONFIG');
  return { line: `${code}: ${message}`, exitCode: usage ? 2 : 1 };
}
