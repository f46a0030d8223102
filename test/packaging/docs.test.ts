// The documentation stays true to the code: the API reference of the public client and recipes
// builds with typedoc without a warning (a broken link or a type the reference cannot show fails
// it), every ```ts block of docs/*.md type-checks against the package's declarations as a user
// imports them, and relative links between the docs point at files that exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../support/ServerProcess.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DOCS = path.join(REPO, 'docs');
const guides = () => fs.readdirSync(DOCS).filter((f) => f.endsWith('.md')).sort();

test('docs/ has the guides the issues ask for', () => {
  for (const f of ['client-guide.md', 'migrating-from-node-zookeeper-client.md', 'migrating-from-curator.md', 'interop.md', 'deployment.md']) {
    assert.ok(fs.existsSync(path.join(DOCS, f)), `docs/${f}`);
  }
});

test('typedoc builds the client and recipes reference without warnings', () => {
  const out = makeTempDir('zk-typedoc-');
  try {
    const r = spawnSync(process.execPath, [path.join(REPO, 'node_modules/typedoc/bin/typedoc'), '--out', out], { cwd: REPO, encoding: 'utf8', timeout: 240000 });
    const log = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, log);
    assert.doesNotMatch(log, /\[warning\]|\[error\]/, log);
    // The pages a user looks for first exist.
    for (const page of ['index.html', 'classes/client.ZooKeeper.html', 'classes/recipes.Mutex.html', 'classes/client.NoNodeError.html']) {
      assert.ok(fs.existsSync(path.join(out, page)), `${page} generated`);
    }
    assert.match(fs.readFileSync(path.join(out, 'classes/client.ZooKeeper.html'), 'utf8'), /waitConnected/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test('every ```ts block in docs/*.md type-checks against the package declarations', () => {
  const dir = makeTempDir('zk-doc-snippets-');
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'doc-snippets', private: true, type: 'module' }));
    const where = new Map<string, string>();
    let n = 0;
    for (const guide of guides()) {
      const text = fs.readFileSync(path.join(DOCS, guide), 'utf8');
      for (const m of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
        const line = text.slice(0, m.index).split('\n').length;
        const file = `snippet${++n}.ts`;
        where.set(file, `docs/${guide}:${line}`);
        // Blocks may use `zk` without connecting, as prose examples do; each is its own module.
        const body = m[1]!;
        const prelude = /\b(const|let) zk\b/.test(body) ? '' : "import type { ZooKeeper as ZooKeeperForDocs } from 'zookeeper-ts';\ndeclare const zk: ZooKeeperForDocs;\n";
        fs.writeFileSync(path.join(dir, file), `${prelude}${body}\nexport {};\n`);
      }
    }
    assert.ok(n >= 10, `found ${n} ts blocks`);
    const dist = path.join(REPO, 'dist/src');
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2022', 'ESNext.Disposable'],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [path.join(REPO, 'node_modules/@types')],
          paths: {
            'zookeeper-ts': [path.join(dist, 'index.d.ts')],
            'zookeeper-ts/client': [path.join(dist, 'client/index.d.ts')],
            'zookeeper-ts/recipes': [path.join(dist, 'recipes/index.d.ts')],
          },
        },
        include: ['*.ts'],
      }),
    );
    const r = spawnSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: dir, encoding: 'utf8', timeout: 240000 });
    // Point each error at the guide and line it came from.
    const errors = r.stdout.replace(/^(snippet\d+\.ts)\((\d+),(\d+)\)/gm, (_s, f: string, l: string) => `${where.get(f)} block line ${l}`);
    assert.equal(r.status, 0, errors);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('relative links between the docs resolve', () => {
  for (const guide of guides()) {
    const text = fs.readFileSync(path.join(DOCS, guide), 'utf8');
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      assert.ok(fs.existsSync(path.resolve(DOCS, target)), `docs/${guide} links to ${target}, which does not exist`);
    }
  }
});
