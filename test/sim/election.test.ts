// Fast leader election under a seeded, faulty network (see electionSimulation.ts). SIM_SEEDS=n runs
// n seeds per ensemble shape instead of the default; SIM_SEED=s runs only seed s (replay); shape k
// (1-based, in the order below) uses seeds k*1,000,000 + i.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runElectionSim, SETTLE_BOUND_MS, type ElectionSimOptions, type ElectionSimResult } from './electionSimulation.js';

const perShape = Number(process.env.SIM_SEEDS ?? 100);
const only = process.env.SIM_SEED === undefined ? null : Number(process.env.SIM_SEED);

const shapes: Array<Omit<ElectionSimOptions, 'seed'>> = [
  { voters: 3, observers: 0, clean: true },
  { voters: 3, observers: 2, clean: true },
  { voters: 5, observers: 1, clean: true },
  { voters: 3, observers: 0, clean: false },
  { voters: 3, observers: 1, clean: false },
  { voters: 3, observers: 2, clean: false },
  { voters: 5, observers: 0, clean: false },
  { voters: 5, observers: 1, clean: false },
  { voters: 5, observers: 2, clean: false },
  // The same over the connection core and simulated TCP.
  { voters: 3, observers: 0, clean: true, network: 'connections' },
  { voters: 5, observers: 1, clean: true, network: 'connections' },
  { voters: 3, observers: 1, clean: false, network: 'connections' },
  { voters: 5, observers: 2, clean: false, network: 'connections' },
];

function runShape(shape: Omit<ElectionSimOptions, 'seed'>, index: number): ElectionSimResult[] {
  const results: ElectionSimResult[] = [];
  const seeds = only !== null ? [only] : Array.from({ length: perShape }, (_, i) => 1_000_000 * (index + 1) + i);
  for (const seed of seeds) results.push(runElectionSim({ ...shape, seed }));
  return results;
}

shapes.forEach((shape, index) => {
  const name = `${shape.voters} voters + ${shape.observers} observers, ${shape.clean ? 'clean start' : 'chaos then heal'}${shape.network === 'connections' ? ', over ElectionConnections' : ''}`;
  test(name, () => {
    const results = runShape(shape, index);
    const bad = results.filter((r) => r.violations.length > 0);
    const settle = results.map((r) => r.settleMs).filter((x): x is number => x !== null);
    settle.sort((a, b) => a - b);
    const pct = (q: number) => (settle.length ? settle[Math.min(settle.length - 1, Math.floor(q * settle.length))]! : -1);
    const worst = settle.length ? settle[settle.length - 1]! : -1;
    const split = results.reduce((a, r) => a + r.splitRounds, 0);
    console.log(`# ${name}: ${results.length} seeds, settle median ${pct(0.5)} / p99 ${pct(0.99)} / max ${worst} ms (bound ${SETTLE_BOUND_MS}), decisions ${results.reduce((a, r) => a + r.decisions, 0)}, split rounds ${split}`);
    assert.deepEqual(
      bad.slice(0, 3).map((r) => r.violations.slice(0, 3)),
      [],
      `failing seeds (replay with SIM_SEED=<seed>): ${bad.map((r) => r.seed).join(', ')}`,
    );
  });
});

test('a seed replays exactly', () => {
  for (const shape of [shapes[4]!, shapes[8]!]) {
    const a = runElectionSim({ ...shape, seed: 77 });
    const b = runElectionSim({ ...shape, seed: 77 });
    assert.equal(a.trace, b.trace);
    assert.equal(a.messages, b.messages);
    const c = runElectionSim({ ...shape, seed: 78 });
    assert.notEqual(a.trace, c.trace, 'the trace depends on the seed');
  }
});

// Seeds that once failed, with the exact options, kept so they stay fixed.
const REGRESSIONS: Array<{ options: ElectionSimOptions; why: string; maxMessages?: number }> = [
  {
    options: { voters: 3, observers: 1, clean: false, seed: 5299 },
    why: 'a LOOKING observer and a voter on an older round answer each other forever; duplicated messages multiplied that into 54,207 sends before links kept one message on the wire',
    maxMessages: 2000,
  },
  { options: { voters: 3, observers: 0, clean: false, seed: 4470 }, why: 'a member decided while its early notifications were processed in startLooking, so its round went unrecorded' },
  { options: { voters: 5, observers: 1, clean: false, seed: 9234 }, why: 'a FOLLOWING answer with the same vote counted in a LOOKING quorum (checker assumed only LOOKING votes count)' },
  { options: { voters: 5, observers: 2, clean: false, seed: 9234 }, why: 'same' },
  { options: { voters: 5, observers: 1, clean: false, seed: 10541 }, why: 'same' },
  { options: { voters: 5, observers: 2, clean: false, seed: 10541 }, why: 'same' },
];

test('regression seeds', () => {
  for (const r of REGRESSIONS) {
    const res = runElectionSim(r.options);
    assert.deepEqual(res.violations, [], `${JSON.stringify(r.options)}: ${r.why}`);
    if (r.maxMessages !== undefined) assert.ok(res.messages < r.maxMessages, `${res.messages} messages: ${r.why}`);
  }
});
