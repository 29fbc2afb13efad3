/**
 * A strip's local records (issue 12): a strip is N period contracts, one
 * wallet record each (id = the period's offer id), linked by `strip.id` (period
 * 1's offer id) and ordered by `strip.batch.index`.
 *
 * This module does NOT talk to anyone or change records.
 */
import type { ContractRecord, Wallet } from '../wallet/index.js';

/**
 * The period records of the strip that `idOrPrefix` names (the strip id, or any
 * period's offer id or contract id), in period order; `undefined` when that
 * record is not a strip's period.
 * @throws {WalletError} WALLET_CONTRACT_NOT_FOUND for an unknown id.
 */
export function stripRecords(wallet: Wallet, idOrPrefix: string): ContractRecord[] | undefined {
  const rec = wallet.contracts.get(idOrPrefix);
  if (rec.strip === undefined) return undefined;
  const id = rec.strip.id;
  return wallet.contracts.list()
    .filter((r) => r.strip?.id === id)
    .sort((a, b) => a.strip!.batch.index - b.strip!.batch.index);
}

/** "period 3 of 4" for messages (index 0-based). */
export function periodLabel(index: number, periods: number): string {
  return `period ${index + 1} of ${periods}`;
}
