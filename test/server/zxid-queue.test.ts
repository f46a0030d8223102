// RequestPipeline's queue of zxids no local client waits for: zxids go in in increasing order and
// commit in that order; take() says whether a committed zxid was one of them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ZxidQueue } from '../../src/server/pipeline/RequestPipeline.js';

test('take() finds queued zxids in order and passes over zxids never queued', () => {
  const q = new ZxidQueue();
  const epoch = 0x500000000; // zxids past 2^32, as every real one is
  q.push(epoch + 2);
  q.push(epoch + 5);
  assert.equal(q.size, 2);
  assert.equal(q.take(epoch + 1), false, 'a local client\'s write');
  assert.equal(q.take(epoch + 2), true);
  assert.equal(q.take(epoch + 3), false);
  assert.equal(q.size, 1);
  assert.equal(q.take(epoch + 5), true);
  assert.equal(q.size, 0);
  assert.equal(q.take(epoch + 6), false);
});

test('the ring grows past its first capacity, keeps order across wrap-around, and drops zxids that never committed', () => {
  const q = new ZxidQueue();
  let next = 0x100000001;
  const queued: number[] = [];
  // Interleave pushes and takes so that the ring wraps before it grows.
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 50 + round * 40; i++) {
      q.push(next);
      queued.push(next);
      next += 2;
    }
    for (let i = 0; i < 30; i++) assert.equal(q.take(queued.shift()!), true);
  }
  assert.equal(q.size, queued.length);
  // A leader that lost proposals never commits them: a later commit passes over them.
  const last = queued[queued.length - 1]!;
  assert.equal(q.take(last), true);
  assert.equal(q.size, 0);
});
