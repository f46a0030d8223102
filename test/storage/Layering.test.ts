// Layers point down (cli → server → storage → tree/session/auth → protocol → jute): storage may
// not reach up into the server or the configuration, the tree may not reach storage, and no
// module of either imports itself back through a cycle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/storage → the repository root.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const src = path.join(root, 'src');

/** Relative imports of a TypeScript file, resolved to paths under src. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith('.')) continue;
    out.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
  }
  return out;
}

function filesIn(dir: string): string[] {
  return fs.readdirSync(path.join(src, dir)).filter((f) => f.endsWith('.ts')).map((f) => path.join(src, dir, f));
}

test('src/storage imports nothing from server, config, cli, client or quorum', () => {
  const bad: string[] = [];
  for (const f of filesIn('storage')) {
    for (const i of importsOf(f)) {
      const layer = path.relative(src, i).split(path.sep)[0]!;
      if (['server', 'config', 'cli', 'client', 'quorum'].includes(layer)) bad.push(`${path.relative(root, f)} → ${path.relative(root, i)}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('src/tree imports only tree, protocol, jute and util', () => {
  const bad: string[] = [];
  for (const f of filesIn('tree')) {
    for (const i of importsOf(f)) {
      const layer = path.relative(src, i).split(path.sep)[0]!;
      if (!['tree', 'protocol', 'jute', 'util'].includes(layer)) bad.push(`${path.relative(root, f)} → ${path.relative(root, i)}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('no import cycle among the storage and tree modules', () => {
  const files = [...filesIn('storage'), ...filesIn('tree')];
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((i) => files.includes(i))]));
  const state = new Map<string, 'active' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, trail: string[]): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'active') {
      cycles.push([...trail.slice(trail.indexOf(f)), f].map((p) => path.relative(src, p)).join(' → '));
      return;
    }
    state.set(f, 'active');
    for (const next of graph.get(f)!) visit(next, [...trail, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
  assert.deepEqual(cycles, []);
});
