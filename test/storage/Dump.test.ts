import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dumpSnapshot, dumpTxnLog, javaHashSetOrder } from '../../src/storage/Dump.js';
import { FileTxnLog } from '../../src/storage/TxnLog.js';
import { VECTOR_DATA, VECTOR_DIR, createTxn, tmpDir } from './helpers.js';

/**
 * The recorded dumps were captured through Python text mode, which turned line-break-like
 * control bytes inside znode data into newlines; compare line lists split the same way.
 */
function lines(s: string): string[] {
  const out = s.split(/\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]/);
  while (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

function recordedSections(file: string): Map<string, string> {
  const text = Buffer.from(fs.readFileSync(path.join(VECTOR_DIR, file))).toString('utf8');
  const parts = text.split(/^==== .* -d (\S+) \(exit 0\)\n/m);
  const out = new Map<string, string>();
  for (let i = 1; i < parts.length; i += 2) out.set(parts[i]!, parts[i + 1]!);
  return out;
}

test('dumpTxnLog prints every recorded log exactly like TxnLogToolkit -d', async () => {
  const recorded = recordedSections('log-dump.txt');
  assert.equal(recorded.size, 7);
  for (const [name, want] of recorded) {
    assert.deepEqual(lines(await dumpTxnLog(path.join(VECTOR_DATA, name))), lines(want), name);
  }
});

test('dumpSnapshot prints every recorded snapshot exactly like SnapshotFormatter -d', async () => {
  const recorded = recordedSections('snapshot-dump.txt');
  assert.equal(recorded.size, 7);
  for (const [name, want] of recorded) {
    assert.deepEqual(lines(await dumpSnapshot(path.join(VECTOR_DATA, name))), lines(want), name);
  }
});

test('dumpTxnLog flags checksum errors and partial records like the toolkit', async () => {
  const dir = tmpDir();
  const log = new FileTxnLog({ dir, preAllocSizeKb: 0, forceSync: false });
  await log.append([createTxn(1, '/a', 'one', 1), createTxn(2, '/b', 'two', 2)]);
  await log.close();
  const f = path.join(dir, 'log.1');
  const b = fs.readFileSync(f);
  b[16 + 12 + 42]! ^= 1; // first byte of the first txn's data: 'one' -> 'nne'
  fs.writeFileSync(f, b);
  const out = await dumpTxnLog(f);
  assert.match(out, /^CRC ERROR - .* create \/a,nne,/m);
  assert.match(out, /EOF reached after 2 txns\.\n$/);
  fs.writeFileSync(f, Buffer.concat([b.subarray(0, b.length - 1), Buffer.from([0x41])]));
  assert.match(await dumpTxnLog(f), /Last transaction was partial\.\n$/);
});

test('javaHashSetOrder follows HashMap bucket order with resizes', () => {
  // Single-character names hash to their code: buckets in code order modulo the capacity.
  assert.deepEqual(javaHashSetOrder(['c', 'a', 'b']), ['a', 'b', 'c']);
  // "i" (105) and "a" (97) share bucket 1 of 8: insertion order decides.
  assert.deepEqual(javaHashSetOrder(['i', 'a']), ['i', 'a']);
  // Seven names force capacity 16, separating them.
  assert.deepEqual(javaHashSetOrder(['i', 'a', 'b', 'c', 'd', 'e', 'f']), ['a', 'b', 'c', 'd', 'e', 'f', 'i']);
});
