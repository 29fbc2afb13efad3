/**
 * Layering (issue 10): who may import whom, read from the source files'
 * import statements (static, `export ... from` and dynamic `import()`), and
 * that nothing under src/ patches `process.stdout.write`.
 *
 * Rules:
 * - the participant library, the CLI and the API clients (src/participant/,
 *   src/cli/, src/api/) import no service internals: not src/coordinator/,
 *   oracle/ nor src/dashboard/ (the services' vocabulary is src/api/ itself);
 * - src/dashboard/ does not import src/coordinator/ (it takes
 *   `CoordinatorQueries` from src/api/coordinator.ts);
 * - src/coordinator/ does not import src/dashboard/, except its process
 *   entry src/coordinator/main.ts, the composition root that mounts the
 *   dashboard (and which no other module imports statically);
 * - no file under src/ assigns `process.stdout.write` or `process.stderr.write`,
 *   or sets or deletes a `process.env` variable;
 * - the stack, `npm start` and `npm run demo` (src/stack/, src/start.ts,
 *   src/demo.ts) call the participant library, not the CLI's `main`
 *   (src/cli/main.ts).
 *
 * What other branches of issue 10 still have to remove is listed in
 * KNOWN_VIOLATIONS, exactly: a violation not listed fails, and so does a
 * listed one that is gone (the merger empties the list as branches land).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `importer -> imported` (repo-relative paths, .ts) still present until the other helpers' branches are merged. */
const KNOWN_VIOLATIONS: readonly string[] = [];

/** The composition roots allowed to import both sides they compose. */
const COMPOSITION_ROOTS = new Set(['src/coordinator/main.ts']);

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every relative module specifier of a source text, with whether it is a dynamic import. */
export function specifiers(text: string): { spec: string; dynamic: boolean }[] {
  // Comments are dropped first: a module header may quote an import.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: { spec: string; dynamic: boolean }[] = [];
  for (const m of code.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g)) out.push({ spec: m[1]!, dynamic: false });
  for (const m of code.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g)) out.push({ spec: m[1]!, dynamic: false });
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1]!, dynamic: true });
  return out.filter((s) => s.spec.startsWith('.'));
}

/** The repo-relative .ts path a relative specifier of `file` names. */
function resolveSpec(file: string, spec: string): string {
  return relative(ROOT, resolve(ROOT, dirname(file), spec)).split('\\').join('/').replace(/\.js$/, '.ts');
}

interface Edge {
  from: string;
  to: string;
  dynamic: boolean;
}

const SOURCES = [...tsFiles('src'), ...tsFiles('oracle'), ...tsFiles('protocol'), ...tsFiles('regtest')];
const EDGES: Edge[] = SOURCES.flatMap((from) => specifiers(readFileSync(join(ROOT, from), 'utf8')).map(({ spec, dynamic }) => ({ from, to: resolveSpec(from, spec), dynamic })));

const under = (path: string, ...dirs: string[]): boolean => dirs.some((d) => path.startsWith(`${d}/`));

/** What a source text patches of the process it runs in: its stdout or stderr writer, its environment. */
export function processPatches(code: string): string[] {
  const out: string[] = [];
  if (/process\.stdout(?:\s+as\s+[^)]+\))?\s*\.write\s*=(?!=)/.test(code)) out.push('assigns process.stdout.write');
  if (/process\.stderr(?:\s+as\s+[^)]+\))?\s*\.write\s*=(?!=)/.test(code)) out.push('assigns process.stderr.write');
  if (/process\.env(?:\[[^\]]+\]|\.\w+)\s*=(?!=)|delete\s+process\.env\b/.test(code)) out.push('sets process.env');
  return out;
}

function violations(): string[] {
  const found = new Set<string>();
  for (const e of EDGES) {
    const edge = `${e.from} -> ${e.to}`;
    if (under(e.from, 'src/cli', 'src/participant', 'src/api') && under(e.to, 'src/coordinator', 'oracle', 'src/dashboard')) found.add(edge);
    if (under(e.from, 'src/dashboard') && under(e.to, 'src/coordinator')) found.add(edge);
    if (under(e.from, 'src/coordinator') && under(e.to, 'src/dashboard') && !COMPOSITION_ROOTS.has(e.from)) found.add(edge);
    // A composition root is an entry: imported by nothing (the stack's child process loads it dynamically).
    if (COMPOSITION_ROOTS.has(e.to) && !e.dynamic) found.add(`${edge} (a composition root imported statically)`);
    if ((under(e.from, 'src/stack') || e.from === 'src/start.ts' || e.from === 'src/demo.ts') && e.to === 'src/cli/main.ts') found.add(edge);
  }
  for (const f of tsFiles('src')) {
    const code = readFileSync(join(ROOT, f), 'utf8');
    for (const what of processPatches(code)) found.add(`${f} ${what}`);
  }
  return [...found].sort();
}

describe('layering', () => {
  it('reads imports of every kind (static, type-only, re-export, dynamic) and ignores comments', () => {
    const text = [
      "import { a } from '../coordinator/x.js';",
      "import type { B } from '../dashboard/y.js';",
      "export { c } from './z.js';",
      "const m = await import('../../oracle/w.js');",
      "import './side-effect.js';",
      "// import { no } from '../coordinator/comment.js';",
      "/* import { no } from '../coordinator/block.js'; */",
      "import { pkg } from 'zod';",
    ].join('\n');
    expect(specifiers(text)).toEqual([
      { spec: '../coordinator/x.js', dynamic: false },
      { spec: '../dashboard/y.js', dynamic: false },
      { spec: './z.js', dynamic: false },
      { spec: './side-effect.js', dynamic: false },
      { spec: '../../oracle/w.js', dynamic: true },
    ]);
    expect(resolveSpec('src/cli/offer.ts', '../../oracle/event-spec.js')).toBe('oracle/event-spec.ts');
  });

  it('recognises a patched stdout, stderr or environment, and not a read or a comparison', () => {
    expect(processPatches('process.stdout.write = capture(out);')).toEqual(['assigns process.stdout.write']);
    expect(processPatches('process.stderr.write = capture(err);')).toEqual(['assigns process.stderr.write']);
    expect(processPatches("process.env[k] = v;\ndelete process.env[k];")).toEqual(['sets process.env']);
    expect(processPatches('process.env.HASHDLC_WALLET_DIR = dir;')).toEqual(['sets process.env']);
    expect(processPatches("process.stdout.write('x');\nconst w = process.env.HOME;\nif (process.env.X === 'y') f();")).toEqual([]);
  });

  it('finds the import graph (the dashboard is mounted by coordinator main only)', () => {
    expect(EDGES.length).toBeGreaterThan(100);
    expect(EDGES.filter((e) => e.to.startsWith('src/dashboard/') && !e.from.startsWith('src/dashboard/')).map((e) => e.from)).toEqual(['src/coordinator/main.ts']);
  });

  it('has exactly the known violations (module header): none new, none already gone', () => {
    expect(violations()).toEqual([...KNOWN_VIOLATIONS].sort());
  });
});
