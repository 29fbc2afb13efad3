/**
 * node-dlc's `BatchFundingGroup` TLV (type 65430; Atomic Finance's extension
 * for several DLCs funded by one transaction, carried by their DlcOffer,
 * DlcAccept and DlcSign): which contracts are funded together, the collateral
 * allocated to the group and the oracle events of its contracts. Layout of the
 * value, in order: BigSize count + (BigSize length, bytes) per temporary
 * contract id; the same for contract ids; u64 allocated collateral; BigSize
 * count + (BigSize length, UTF-8 bytes) per event id.
 *
 * hashdlc writes one group per strip next to the N period messages (the
 * coordinator serves it as `batchFundingGroup`), with every period's temporary
 * id (and contract id once known), the strip's total collateral and each
 * period's event id, so a node-dlc implementation can read which DLCs share
 * the funding transaction. Departures are documented in protocol/tx funding.ts
 * (one pair of funding keys for the whole batch). node-dlc writes an event id's
 * length as its character count; ours is its UTF-8 byte count (the same for the
 * ASCII ids oracles issue).
 *
 * No I/O.
 */
import { DlcError } from '../errors.js';
import { WireReader, WireWriter } from './wire.js';

/** node-dlc `MessageType.BatchFundingGroup`. */
export const BATCH_FUNDING_GROUP_TYPE = 65430;

export interface BatchFundingGroup {
  tempContractIds: Uint8Array[];
  contractIds: Uint8Array[];
  allocatedCollateral: bigint;
  eventIds: string[];
}

/** The TLV bytes (type, length, value). */
export function encodeBatchFundingGroup(g: BatchFundingGroup): Uint8Array {
  const v = new WireWriter();
  v.writeBigSize(g.tempContractIds.length);
  for (const id of g.tempContractIds) v.writeVarBytes(id);
  v.writeBigSize(g.contractIds.length);
  for (const id of g.contractIds) v.writeVarBytes(id);
  v.writeU64(g.allocatedCollateral);
  v.writeBigSize(g.eventIds.length);
  for (const id of g.eventIds) v.writeString(id);
  return new WireWriter().writeTlv(BATCH_FUNDING_GROUP_TYPE, v.toBytes()).toBytes();
}

/**
 * Reads one BatchFundingGroup TLV (the whole input).
 * @throws {DlcError} DECODE_ERROR (`unexpected-type`, truncation, trailing bytes).
 */
export function decodeBatchFundingGroup(bytes: Uint8Array): BatchFundingGroup {
  const r = new WireReader(bytes);
  const { type, value } = r.readTlv('batch_funding_group');
  r.expectEnd('batch_funding_group');
  if (type !== BigInt(BATCH_FUNDING_GROUP_TYPE)) {
    throw new DlcError('DECODE_ERROR', `type ${type} is not a batch_funding_group (${BATCH_FUNDING_GROUP_TYPE})`, { reason: 'unexpected-type' });
  }
  const ids = (what: string): Uint8Array[] => {
    const n = value.readBigSizeCount(`${what} count`, 1);
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) out.push(value.readVarBytes(what));
    return out;
  };
  const tempContractIds = ids('temp contract id');
  const contractIds = ids('contract id');
  const allocatedCollateral = value.readU64('allocated collateral');
  const n = value.readBigSizeCount('event id count', 1);
  const eventIds: string[] = [];
  for (let i = 0; i < n; i++) eventIds.push(value.readString('event id'));
  value.expectEnd('batch_funding_group');
  return { tempContractIds, contractIds, allocatedCollateral, eventIds };
}
