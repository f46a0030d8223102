// Deterministic simulation of the standalone server's pipeline (see Simulation.ts). Each seed is a
// different schedule of client operations, fsync delays, crashes, failing disks, disconnects and
// session expiries; every step is checked. SIM_SEEDS=n runs more seeds, SIM_SEED=s replays one
// (with its trace); a seed that ever failed goes into regressions.json and runs every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simulate } from './Simulation.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// The compiled test runs from dist/test/sim; the seed list lives beside the sources.
const regressionsFile = path.resolve(here, '../../../test/sim/regressions.json');
const regressions: number[] = JSON.parse(fs.readFileSync(regressionsFile, 'utf8')).seeds;

function report(r: Awaited<ReturnType<typeof simulate>>): string {
  return `seed ${r.seed}: ${r.violations.slice(0, 5).join('; ')}\nreplay: SIM_SEED=${r.seed} node --test dist/test/sim/standalone.test.js\n` +
    r.trace.slice(-30).join('\n');
}

if (process.env.SIM_SEED) {
  test(`simulation replay of seed ${process.env.SIM_SEED}`, async () => {
    const r = await simulate(Number(process.env.SIM_SEED));
    console.log(r.trace.join('\n'));
    assert.deepEqual(r.violations, [], report(r));
  });
} else {
  test('simulation: regression seeds', async () => {
    for (const seed of regressions) {
      const r = await simulate(seed);
      assert.deepEqual(r.violations, [], report(r));
    }
  });

  test('simulation: random seeds of the standalone pipeline keep every invariant', async (t) => {
    const count = Number(process.env.SIM_SEEDS ?? 300);
    const base = Number(process.env.SIM_BASE ?? 1);
    let steps = 0, crashes = 0, expiries = 0, acked = 0;
    const started = Date.now();
    for (let seed = base; seed < base + count; seed++) {
      const r = await simulate(seed);
      steps += r.steps;
      crashes += r.crashes;
      expiries += r.expiries;
      acked += r.acked;
      assert.deepEqual(r.violations, [], report(r));
    }
    t.diagnostic(`${count} seeds, ${steps} steps, ${acked} acknowledged writes, ${crashes} crashes, ${expiries} expiries in ${Date.now() - started} ms`);
    // The runs must actually exercise what they check.
    assert.ok(crashes > count / 4, `only ${crashes} crashes`);
    assert.ok(expiries > 0, 'no session expired');
    assert.ok(acked > count * 50, `only ${acked} acknowledged writes`);
  });

  test('simulation: the same seed replays exactly', async () => {
    const a = await simulate(7);
    const b = await simulate(7);
    assert.deepEqual(a.trace, b.trace);
    assert.equal(a.steps, b.steps);
  });
}
