#!/usr/bin/env node
// The simulations with thousands of seeds beyond the ones `npm test` runs (different seed ranges),
// as CI runs them: the standalone pipeline, and the ensembles of 3 and 5 voters with an observer,
// in their normal and long-fault shapes. A failing seed prints how to replay it.
import { spawnSync } from 'node:child_process';

const sweeps = [
  { file: 'dist/test/sim/standalone.test.js', env: { SIM_SEEDS: '2000', SIM_BASE: '10000' } },
  { file: 'dist/test/sim/ensemble.test.js', env: { SIM_SEEDS: '1000', SIM_BASE: '100000', SIM_SHAPES: '3+1,5+1' } },
  { file: 'dist/test/sim/ensemble.test.js', env: { SIM_SEEDS: '150', SIM_BASE: '200000', SIM_SHAPES: '3+1 long,5+1 long' } },
];
for (const s of sweeps) {
  const started = Date.now();
  console.log(`# sweep ${s.file} ${JSON.stringify(s.env)}`);
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=dot', s.file], {
    stdio: 'inherit', env: { ...process.env, ZK_DIGEST_ASSERT: '1', ...s.env },
  });
  console.log(`# sweep done in ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${r.status}`);
  if (r.status !== 0) process.exit(r.status ?? 1);
}
