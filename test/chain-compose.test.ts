// docker-compose.yml is valid for Debian's docker-compose (`config -q`) and pins
// Bitcoin Core. No Docker engine runs here: the file is checked, not run. When
// docker-compose is not installed the check is skipped, and says so.
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

describe('docker-compose.yml', () => {
  const text = readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8');

  it('pins the Bitcoin Core image and has a getblockchaininfo healthcheck the services wait for', () => {
    expect(text).toMatch(/image: bitcoin\/bitcoin:\d+\.\d+/);
    expect(text).not.toMatch(/:latest\b/);
    expect(text).toMatch(/getblockchaininfo/);
    expect(text.match(/condition: service_healthy/g)).toHaveLength(2);
  });

  it.skipIf(!haveCompose)(
    `passes docker-compose config -q${haveCompose ? '' : ' (SKIPPED: docker-compose not installed)'}`,
    () => {
      const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: REPO, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    },
  );
});
