// docker-compose.yml is valid for Debian's docker-compose (`config -q`) and pins
// Bitcoin Core and PostgreSQL. No Docker engine runs here: the file is checked,
// not run. When docker-compose is not installed the checks that need it are
// skipped, and say so.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const compose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
const haveCompose = compose.status === 0;
if (!haveCompose) {
  process.stderr.write('[chain-compose] docker-compose is not installed: skipping `docker-compose config -q` (apt-get install docker-compose)\n');
}
const skipped = haveCompose ? '' : ' (SKIPPED: docker-compose not installed)';

/** The lines of one top-level service, up to the next service or section (a plain text cut: no YAML parser is a dependency). */
function serviceBlock(text: string, name: string): string {
  const lines = text.split('\n');
  const start = lines.indexOf(`  ${name}:`);
  if (start < 0) return '';
  let end = start + 1;
  while (end < lines.length && !/^ {0,2}\S/.test(lines[end]!)) end++;
  return lines.slice(start, end).join('\n');
}

/** `KEY: value` of a block (the first), trimmed; undefined when absent. */
function setting(block: string, key: string): string | undefined {
  const m = new RegExp(`^\\s+${key}: (.+)$`, 'm').exec(block);
  return m?.[1]?.trim();
}

describe('docker-compose.yml', () => {
  const text = readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8');

  it('pins the Bitcoin Core image and has a getblockchaininfo healthcheck the services wait for', () => {
    expect(text).toMatch(/image: bitcoin\/bitcoin:\d+\.\d+/);
    expect(text).not.toMatch(/:latest\b/);
    expect(text).toMatch(/getblockchaininfo/);
    // The oracles (one anchor) and the coordinator wait for bitcoind; the coordinator for postgres too.
    expect(text.match(/condition: service_healthy/g)).toHaveLength(3);
  });

  it('runs the coordinator on the postgres service: pinned image, pg_isready over TCP, waited for, one password from the environment', () => {
    const pg = serviceBlock(text, 'postgres');
    expect(pg, 'no postgres service').not.toBe('');
    expect(setting(pg, 'image')).toMatch(/^postgres:\d+\.\d+$/);
    expect(pg).toMatch(/"pg_isready", "-h", "127\.0\.0\.1"/);
    expect(pg).toContain('- postgres-data:/var/lib/postgresql/data');
    expect(text).toMatch(/^volumes:[\s\S]*^ {2}postgres-data:$/m);
    const password = setting(pg, 'POSTGRES_PASSWORD');
    expect(password, 'the password must come from the environment').toMatch(/^\$\{POSTGRES_PASSWORD:-[^}]+\}$/);

    const coordinator = serviceBlock(text, 'coordinator');
    expect(coordinator).toMatch(/depends_on:[\s\S]*\n {6}postgres:\n {8}condition: service_healthy/);
    // A data directory beside a database URL would be ignored: it must not suggest LevelDB.
    expect(setting(coordinator, 'HASHDLC_COORDINATOR_DATA_DIR')).toBeUndefined();
    const url = setting(coordinator, 'HASHDLC_COORDINATOR_DATABASE_URL');
    expect(url, 'the coordinator has no database URL').toBeDefined();
    // The URL names the postgres service with its user, database and the same password variable (same default).
    const u = new URL(url!.replace(password!, 'PASSWORD'));
    expect(u.protocol).toBe('postgres:');
    expect(u.hostname).toBe('postgres');
    expect(u.port).toBe('5432');
    expect(u.username).toBe(setting(pg, 'POSTGRES_USER'));
    expect(u.password).toBe('PASSWORD');
    expect(u.pathname).toBe(`/${setting(pg, 'POSTGRES_DB')}`);
  });

  // One run (docker-compose takes seconds to start): `config` validates as `config -q` does, and resolves the variables.
  it.skipIf(!haveCompose)(`passes docker-compose config, which resolves one POSTGRES_PASSWORD into the database and the coordinator's URL${skipped}`, () => {
    const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: REPO, encoding: 'utf8', env: { ...process.env, POSTGRES_PASSWORD: 'op-chosen-9' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(setting(serviceBlock(r.stdout, 'postgres'), 'POSTGRES_PASSWORD')).toBe('op-chosen-9');
    expect(setting(serviceBlock(r.stdout, 'coordinator'), 'HASHDLC_COORDINATOR_DATABASE_URL')).toBe('postgres://hashdlc:op-chosen-9@postgres:5432/hashdlc');
  });
});
