// The log stage hands at most MAX_LOG_BATCH txns to one append (ZooKeeper's maxBatchSize), so
// the txns applied when one append is durable are bounded too (issue 10: no long turn when
// thousands of pipelined writes arrive at once). Order and completeness must not change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpCode } from '../../src/protocol/constants.js';
import type { Txn } from '../../src/protocol/txn.js';
import type { TxnLog } from '../../src/storage/TxnLog.js';
import { LogStage, MAX_LOG_BATCH } from '../../src/server/pipeline/LogStage.js';
import { nodeRuntime } from '../../src/runtime/Runtime.js';

function txn(zxid: number): Txn {
  return { hdr: { clientId: 1n, cxid: zxid, zxid, time: 0, type: OpCode.delete }, body: { type: OpCode.delete, path: `/n${zxid}` } };
}

test('a burst of appends is logged in batches of at most MAX_LOG_BATCH, all durable, in order', async () => {
  const appended: number[] = [];
  const log = {
    append: async (txns: Txn[]) => {
      appended.push(txns.length);
      // A real fsync completes in a later turn.
      await new Promise((r) => setImmediate(r));
    },
    roll() {},
    close: async () => {},
  } as unknown as TxnLog;
  const durable: number[] = [];
  const stage = new LogStage(log, nodeRuntime.scheduler, nodeRuntime.clock, {
    durable: (txns) => {
      for (const t of txns) durable.push(t.hdr.zxid);
    },
    failed: (e) => assert.fail(e),
  });
  const n = MAX_LOG_BATCH * 2 + 500;
  for (let z = 1; z <= n; z++) stage.append(txn(z));
  await stage.settled();
  assert.deepEqual(appended, [MAX_LOG_BATCH, MAX_LOG_BATCH, 500]);
  assert.equal(durable.length, n);
  assert.ok(durable.every((z, i) => z === i + 1), 'durable in append order');
  assert.equal(stage.pending, 0);
});
