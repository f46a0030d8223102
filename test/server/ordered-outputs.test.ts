// OrderedOutputs carries a Zab core's outputs in order: at once when nothing is ahead, behind an
// asynchronous output (an epoch file being written) when one is, and never interleaving a batch
// handed in by an output with the batch that output belongs to.
import test from 'node:test';
import assert from 'node:assert/strict';
import { OrderedOutputs } from '../../src/server/pipeline/ZabCommit.js';

type Out = { name: string; wait?: Promise<void>; then?: () => void; fail?: boolean };

function harness() {
  const done: string[] = [];
  const errors: Error[] = [];
  const outputs = new OrderedOutputs<Out>(
    (o) => {
      if (o.fail) throw new Error(`${o.name} failed`);
      done.push(o.name);
      o.then?.();
      return o.wait;
    },
    (e) => errors.push(e),
  );
  return { done, errors, outputs };
}

test('a batch with nothing ahead is carried out before run() returns', () => {
  const { done, outputs } = harness();
  outputs.run([{ name: 'a' }, { name: 'b' }]);
  assert.deepEqual(done, ['a', 'b']);
});

test('outputs after an asynchronous one, and later batches, wait until it settles', async () => {
  const { done, outputs } = harness();
  let release!: () => void;
  const persisted = new Promise<void>((r) => (release = r));
  outputs.run([{ name: 'persist', wait: persisted }, { name: 'send' }]);
  outputs.run([{ name: 'next' }]);
  assert.deepEqual(done, ['persist']);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(done, ['persist'], 'nothing passes the unsettled output');
  release();
  await outputs.idle();
  assert.deepEqual(done, ['persist', 'send', 'next']);
  // The chain is empty again: the next batch runs at once.
  outputs.run([{ name: 'later' }]);
  assert.deepEqual(done, ['persist', 'send', 'next', 'later']);
});

test('a batch handed in by an output runs after the rest of the batch that output is in', async () => {
  const { done, outputs } = harness();
  outputs.run([{ name: 'commit', then: () => outputs.run([{ name: 'reentered' }]) }, { name: 'send' }]);
  await outputs.idle();
  assert.deepEqual(done, ['commit', 'send', 'reentered']);
});

test('a failing output stops everything after it and is reported once', async () => {
  const { done, errors, outputs } = harness();
  outputs.run([{ name: 'a' }, { name: 'bad', fail: true }, { name: 'c' }]);
  outputs.run([{ name: 'd' }]);
  await outputs.idle();
  assert.deepEqual(done, ['a']);
  assert.deepEqual(errors.map((e) => e.message), ['bad failed']);
});

test('a rejected asynchronous output stops the rest and is reported', async () => {
  const { done, errors, outputs } = harness();
  outputs.run([{ name: 'persist', wait: Promise.reject(new Error('ENOSPC')) }, { name: 'send' }]);
  outputs.run([{ name: 'next' }]);
  await outputs.idle();
  assert.deepEqual(done, ['persist']);
  assert.deepEqual(errors.map((e) => e.message), ['ENOSPC']);
});

test('a re-entered batch runs in the same turn, before run() returns, and nested ones keep their order', () => {
  const { done, outputs } = harness();
  outputs.run([
    { name: 'learnerRequest', then: () => outputs.run([{ name: 'propose', then: () => outputs.run([{ name: 'nested' }]) }, { name: 'log' }]) },
    { name: 'send' },
  ]);
  assert.deepEqual(done, ['learnerRequest', 'send', 'propose', 'log', 'nested']);
});

test('a batch re-entered before an output of its batch waits on a promise goes on the chain after that batch', async () => {
  const { done, outputs } = harness();
  let release!: () => void;
  const persisted = new Promise<void>((r) => (release = r));
  outputs.run([
    { name: 'commit', then: () => outputs.run([{ name: 'reentered' }]) },
    { name: 'persist', wait: persisted },
    { name: 'send' },
  ]);
  outputs.run([{ name: 'next' }]);
  assert.deepEqual(done, ['commit', 'persist']);
  release();
  await outputs.idle();
  assert.deepEqual(done, ['commit', 'persist', 'send', 'reentered', 'next']);
});
