// Deterministic simulation of whole ensembles (see ensembleSimulation.ts): 3 and 5 voters plus an
// observer, built from the production election, Zab and pipeline cores, under crashes that lose
// unsynced writes, partitions, broken connections and clients moving between members; every step
// and the clients' histories are checked. SIM_SEEDS=n runs n seeds per shape (default below),
// SIM_BASE=b starts at seed b, SIM_SEED=s replays seed s of every shape with its trace. Seeds that
// found bugs are kept in ensemble-regressions.json and run every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setDigestAssertions } from '../../src/tree/DataTree.js';
import { simulateEnsemble, type EnsembleSimOptions, type EnsembleSimResult } from './ensembleSimulation.js';

setDigestAssertions(true);

const here = path.dirname(fileURLToPath(import.meta.url));
const regressionsFile = path.resolve(here, '../../../test/sim/ensemble-regressions.json');
const regressions: { seed: number; shape: string; why: string }[] = JSON.parse(fs.readFileSync(regressionsFile, 'utf8')).seeds;

const SHAPES: Record<string, Partial<EnsembleSimOptions>> = {
  '3+1': { voters: 3, observers: 1 },
  '5+1': { voters: 5, observers: 1 },
};

function report(r: EnsembleSimResult, shape: string): string {
  return `${shape} seed ${r.seed}: ${r.violations.slice(0, 5).join('; ')}\n` +
    `replay: SIM_SEED=${r.seed} node --test dist/test/sim/ensemble.test.js\n` + r.trace.slice(-40).join('\n');
}

if (process.env.SIM_SEED) {
  for (const [shape, opts] of Object.entries(SHAPES)) {
    test(`ensemble ${shape}: replay of seed ${process.env.SIM_SEED}`, async () => {
      const r = await simulateEnsemble(Number(process.env.SIM_SEED), opts);
      console.log(r.trace.join('\n'));
      assert.deepEqual(r.violations, [], report(r, shape));
    });
  }
} else {
  test('ensemble: regression seeds', async () => {
    for (const { seed, shape, why } of regressions) {
      const r = await simulateEnsemble(seed, SHAPES[shape]);
      assert.deepEqual(r.violations, [], `${why}\n${report(r, shape)}`);
    }
  });

  for (const [shape, opts] of Object.entries(SHAPES)) {
    test(`ensemble ${shape}: random seeds keep every invariant`, async (t) => {
      const count = Number(process.env.SIM_SEEDS ?? (shape === '3+1' ? 120 : 60));
      const base = Number(process.env.SIM_BASE ?? 1);
      const sum = { steps: 0, acked: 0, reads: 0, crashes: 0, partitions: 0, breaks: 0, epochs: 0, history: 0 };
      const started = Date.now();
      for (let seed = base; seed < base + count; seed++) {
        const r = await simulateEnsemble(seed, opts);
        sum.steps += r.steps;
        sum.acked += r.acked;
        sum.reads += r.reads;
        sum.crashes += r.crashes;
        sum.partitions += r.partitions;
        sum.breaks += r.breaks;
        sum.epochs += r.epochs;
        sum.history += r.historyLength;
        assert.deepEqual(r.violations, [], report(r, shape));
      }
      t.diagnostic(`${shape}: ${count} seeds in ${Date.now() - started} ms: ${JSON.stringify(sum)}`);
      // The runs must exercise what they check.
      assert.ok(sum.crashes > count / 2, `only ${sum.crashes} crashes`);
      assert.ok(sum.partitions > count / 3, `only ${sum.partitions} partitions`);
      assert.ok(sum.epochs > count * 2, `only ${sum.epochs} epochs established`);
      assert.ok(sum.acked > count * 20, `only ${sum.acked} acknowledged writes`);
      assert.ok(sum.reads > count * 20, `only ${sum.reads} reads checked`);
    });
  }

  test('ensemble: the same seed replays exactly', async () => {
    const a = await simulateEnsemble(11, SHAPES['3+1']);
    const b = await simulateEnsemble(11, SHAPES['3+1']);
    assert.deepEqual(a.trace, b.trace);
    assert.equal(a.steps, b.steps);
    const c = await simulateEnsemble(12, SHAPES['3+1']);
    assert.notDeepEqual(a.trace, c.trace);
  });
}
