/** `hashdlc-oracle --help` as a real process: usage on stdout, exit 0, nothing started. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/hashdlc-oracle.js', import.meta.url));

describe('hashdlc-oracle --help', () => {
  it('prints the usage and the configuration variables, and exits 0', () => {
    const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: hashdlc-oracle \[--config FILE\]/);
    expect(r.stdout).toContain('HASHDLC_ORACLE_DATA_DIR');
    expect(r.stdout).not.toContain('publicKey":');
  });

  it('still refuses an unknown argument', () => {
    const r = spawnSync(process.execPath, [bin, '--bogus'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("unknown argument '--bogus'");
  });
});
