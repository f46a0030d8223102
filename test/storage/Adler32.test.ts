// Adler-32 against the textbook definition, over lengths and offsets around the unrolled loop's
// 8-byte steps and the 5552-byte deferral blocks, and continued across calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adler32 } from '../../src/storage/Adler32.js';
import { seededRandom } from '../support/random.js';

function reference(buf: Uint8Array, from: number, to: number): number {
  let a = 1;
  let b = 0;
  for (let i = from; i < to; i++) {
    a = (a + buf[i]!) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

test('adler32 equals the definition for any range, and continues across calls', () => {
  const r = seededRandom(5);
  const buf = Buffer.alloc(20_000);
  for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(r() * 256);
  buf.fill(0xff, 11_000, 17_000); // worst case for the deferred sums
  for (const len of [0, 1, 7, 8, 9, 15, 16, 17, 5551, 5552, 5553, 11_104, 19_000]) {
    for (const from of [0, 1, 3, 8, 500]) {
      const to = Math.min(buf.length, from + len);
      assert.equal(adler32(buf, 1, from, to), reference(buf, from, to), `[${from}, ${to})`);
      const mid = from + Math.floor((to - from) / 3);
      assert.equal(adler32(buf, adler32(buf, 1, from, mid), mid, to), reference(buf, from, to), `[${from}, ${mid}) + [${mid}, ${to})`);
    }
  }
});
