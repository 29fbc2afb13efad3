// Worker entry of the adaptor-signature pool. A plain .js file so that it
// starts the same way under tsx, vitest and plain node: register tsx's loader
// in this thread, then load the TypeScript worker body (bin/hashdlc.js does
// the same for the CLI).
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
