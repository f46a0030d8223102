#!/usr/bin/env node
// Runs the compiled tests with node's test runner. `unit`: everything under dist/test except
// dist/test/interop (which needs Apache ZooKeeper and kazoo); `interop`: only those.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const which = process.argv[2] ?? 'unit';
const root = path.resolve('dist/test');
const interop = path.join(root, 'interop');

function collect(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (which === 'unit' && p === interop) continue;
      collect(p, out);
    } else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = collect(which === 'interop' ? interop : root, []).sort();
if (files.length === 0) {
  console.error(`no ${which} tests found under ${root} (run tsc first)`);
  process.exit(1);
}
const concurrency = which === 'interop' ? '1' : '2';
// A hung test fails after this long instead of holding CI until its own deadline.
const timeoutMs = which === 'interop' ? 600000 : 300000;
// Every server the tests run (in-process or spawned) fails loudly when a txn's prepared tree
// digest differs from the tree after applying it, instead of only counting the mismatch.
const env = { ...process.env, ZK_DIGEST_ASSERT: process.env.ZK_DIGEST_ASSERT ?? '1' };
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, ...files], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
