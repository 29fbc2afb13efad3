#!/usr/bin/env node
// Entry shim of the oracle service: runs oracle/main.ts through tsx's loader,
// so `npx hashdlc-oracle` works right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../oracle/main.ts');
process.exitCode = await main(process.argv.slice(2));
