// Deterministic simulation of whole ensembles (see ensembleSimulation.ts): 3 and 5 voters plus an
// observer, built from the production election, Zab and pipeline cores, under crashes that lose
// unsynced writes, power cuts, partitions, broken connections and clients moving between members;
// every step and the clients' histories are checked.
//   SIM_SEEDS=n     seeds per shape (default: 100 for 3+1, 40 for 5+1)
//   SIM_BASE=b      first seed (default 1)
//   SIM_SHAPES=a,b  shapes to run (default "3+1,5+1"; also "3+1 long", "5+1 long")
//   SIM_SEED=s      replay seed s of each shape, printing its trace
// Seeds that found bugs are kept, with their shape, in ensemble-regressions.json and run every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setDigestAssertions } from '../../src/tree/DataTree.js';
import { ENSEMBLE_SHAPES, simulateEnsemble, type EnsembleSimResult } from './ensembleSimulation.js';

// A replica whose tree disagrees with the digest a txn carries fails loudly, whatever the runner's env.
setDigestAssertions(true);

const here = path.dirname(fileURLToPath(import.meta.url));
const regressionsFile = path.resolve(here, '../../../test/sim/ensemble-regressions.json');
const regressions: { seed: number; shape: string; why: string }[] = JSON.parse(fs.readFileSync(regressionsFile, 'utf8')).seeds;
const shapes = (process.env.SIM_SHAPES ?? '3+1,5+1').split(',').map((s) => s.trim());
for (const s of shapes) if (!ENSEMBLE_SHAPES[s]) throw new Error(`unknown shape ${s}; known: ${Object.keys(ENSEMBLE_SHAPES).join(', ')}`);

function report(r: EnsembleSimResult, shape: string): string {
  return `${shape} seed ${r.seed}: ${r.violations.slice(0, 5).join('; ')}\n` +
    `replay: SIM_SEED=${r.seed} SIM_SHAPES='${shape}' node --test dist/test/sim/ensemble.test.js\n` + r.trace.slice(-40).join('\n');
}

if (process.env.SIM_SEED) {
  for (const shape of shapes) {
    test(`ensemble ${shape}: replay of seed ${process.env.SIM_SEED}`, async () => {
      const r = await simulateEnsemble(Number(process.env.SIM_SEED), ENSEMBLE_SHAPES[shape]);
      console.log(r.trace.join('\n'));
      assert.deepEqual(r.violations, [], report(r, shape));
    });
  }
} else {
  test('ensemble: regression seeds', async () => {
    for (const { seed, shape, why } of regressions) {
      const r = await simulateEnsemble(seed, ENSEMBLE_SHAPES[shape]);
      assert.deepEqual(r.violations, [], `${why}\n${report(r, shape)}`);
    }
  });

  for (const shape of shapes) {
    test(`ensemble ${shape}: random seeds keep every invariant`, async (t) => {
      const count = Number(process.env.SIM_SEEDS ?? (shape.startsWith('3') ? 100 : 40));
      const base = Number(process.env.SIM_BASE ?? 1);
      const sum = { steps: 0, acked: 0, reads: 0, syncs: 0, moves: 0, crashes: 0, partitions: 0, breaks: 0, epochs: 0, history: 0 };
      const modes: Record<string, number> = {};
      const started = Date.now();
      for (let seed = base; seed < base + count; seed++) {
        const r = await simulateEnsemble(seed, ENSEMBLE_SHAPES[shape]);
        sum.steps += r.steps;
        sum.acked += r.acked;
        sum.reads += r.reads;
        sum.syncs += r.syncsAnswered;
        sum.moves += r.moves;
        sum.crashes += r.crashes;
        sum.partitions += r.partitions;
        sum.breaks += r.breaks;
        sum.epochs += r.epochs;
        sum.history += r.historyLength;
        for (const [k, v] of Object.entries(r.syncModes)) modes[k] = (modes[k] ?? 0) + v;
        assert.deepEqual(r.violations, [], report(r, shape));
      }
      t.diagnostic(`${shape}: ${count} seeds in ${Date.now() - started} ms: ${JSON.stringify(sum)} learner syncs ${JSON.stringify(modes)}`);
      // The runs must reach what they check: faults of each kind, leader changes, every sync mode,
      // and enough client traffic.
      assert.ok(sum.crashes > count, `only ${sum.crashes} crashes`);
      assert.ok(sum.partitions > count / 2, `only ${sum.partitions} partitions`);
      assert.ok(sum.breaks > count / 2, `only ${sum.breaks} broken connections`);
      assert.ok(sum.epochs > count * 2, `only ${sum.epochs} epochs established`);
      assert.ok(sum.acked > count * 20, `only ${sum.acked} acknowledged writes`);
      assert.ok(sum.reads > count * 20, `only ${sum.reads} reads checked`);
      assert.ok(sum.syncs > count, `only ${sum.syncs} syncs answered`);
      for (const mode of ['DIFF', 'SNAP', 'TRUNC']) assert.ok((modes[mode] ?? 0) > 0, `no learner synchronised by ${mode}`);
    });
  }

  test('ensemble: the same seed replays exactly', async () => {
    const a = await simulateEnsemble(11, ENSEMBLE_SHAPES['3+1']);
    const b = await simulateEnsemble(11, ENSEMBLE_SHAPES['3+1']);
    assert.deepEqual(a.trace, b.trace);
    assert.equal(a.steps, b.steps);
    const c = await simulateEnsemble(12, ENSEMBLE_SHAPES['3+1']);
    assert.notDeepEqual(a.trace, c.trace);
  });
}
