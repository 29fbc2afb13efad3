/**
 * The service APIs, one schema module and one client per service:
 * coordinator (coordinator.ts, coordinator-client.ts) and oracle (oracle.ts,
 * oracle-client.ts), over one transport (http.ts).
 *
 * This entry does NOT start or serve anything.
 */
export { JsonService, ServiceError } from './http.js';
export type { JsonServiceOptions, ServiceFailure } from './http.js';
export * from './coordinator.js';
export { CoordinatorClient } from './coordinator-client.js';
export * from './oracle.js';
export { OracleClient } from './oracle-client.js';
export { isBase64Text, isHexText } from './text.js';
