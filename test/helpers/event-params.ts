/** A regtest hashpower-delivery event's parameters (protocol/events), the base the event-id tests vary. */
import type { EventParams } from '../../protocol/events/index.js';

export const DELIVERY_EVENT_PARAMS: EventParams = {
  kind: 'hashpower-delivery',
  network: 'regtest',
  window: { start: 300, end: 400 },
  deliveryAddress: 'bcrt1qur5z4lnlxeqeyfrhcye7xyeq74mks4wxrkt3wk',
  poolPayoutAddresses: [],
  hashrateThs: '100',
  simulatedDifficulty: '1e9',
  rewardRule: 'subsidy+fees-capped-4x-median-v1',
  descriptor: { type: 'numeric', base: 2, nbDigits: 14, unit: 'bps', precision: 0 },
};
