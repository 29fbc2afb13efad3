#!/usr/bin/env node
// Entry shim of the coordinator service: runs src/coordinator/main.ts through
// tsx's loader, so `npx hashdlc-coordinator` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/coordinator/main.ts');
process.exitCode = await main(process.argv.slice(2));
