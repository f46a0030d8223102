// The digest arithmetic's allocation-free paths against plain reference computations: node
// digests from the store's columns and from given fields against a CRC-32 over the bytes laid out
// with Buffer's own writers, the JS range CRC against zlib's, and the two-halves digest sum against
// bigint arithmetic. (The recorded Apache digests are checked in test/storage/digest-vectors.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { DigestSum, crc32, crc32Range, digestOf, joinInt64, nodeDigest } from '../../src/tree/DigestCalculator.js';
import { DataTree } from '../../src/tree/DataTree.js';
import { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { OpCode } from '../../src/protocol/constants.js';
import type { Txn } from '../../src/protocol/txn.js';

/** A seeded generator, so a failure repeats. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** ZooKeeper's node digest written out the plain way: CRC-32 of path bytes, data, then the 60 Stat bytes. */
function referenceDigest(path: string, data: Uint8Array | null, f: number[], owner: bigint): number {
  if (path.startsWith('/zookeeper/')) return 0;
  const stat = Buffer.alloc(60);
  for (let i = 0; i < 5; i++) stat.writeBigInt64BE(BigInt.asIntN(64, BigInt(f[i]!)), 8 * i);
  for (let i = 0; i < 3; i++) stat.writeInt32BE(f[5 + i]!, 40 + 4 * i);
  stat.writeBigInt64BE(BigInt.asIntN(64, owner), 52);
  const parts = [path === '/' || path === '' ? Buffer.alloc(0) : Buffer.from(path, 'utf8'), Buffer.from(data ?? []), stat];
  return crc32(Buffer.concat(parts));
}

test('crc32Range over any range equals the CRC of a copy of it, below and above the JS threshold', () => {
  const r = rng(7);
  const chunk = Buffer.alloc(4096);
  for (let i = 0; i < chunk.length; i++) chunk[i] = Math.floor(r() * 256);
  for (let n = 0; n < 400; n++) {
    const len = n < 300 ? n : Math.floor(r() * 2000);
    const start = Math.floor(r() * (chunk.length - len));
    const seed = Math.floor(r() * 2 ** 32);
    const want = crc32(Buffer.from(chunk.subarray(start, start + len)), seed);
    assert.equal(crc32Range(chunk, start, start + len, seed), want, `len ${len} at ${start}`);
  }
  const whole = chunk.subarray(0, 1000);
  assert.equal(crc32Range(whole, 0, whole.length), (zlib as { crc32?: (b: Uint8Array) => number }).crc32?.(whole) ?? crc32(whole));
});

test('digestOf and nodeDigest equal the plain CRC layout, odd values included', () => {
  const r = rng(11);
  const specials = [0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 0x500000123, 1700000000123, Number.MAX_SAFE_INTEGER, -1, -(2 ** 40)];
  for (let n = 0; n < 300; n++) {
    const pick = () => (r() < 0.3 ? specials[Math.floor(r() * specials.length)]! : Math.floor(r() * 2 ** 45));
    const f = [pick(), pick(), pick(), pick(), pick(), (r() * 2 ** 32) | 0, (r() * 2 ** 32) | 0, (r() * 2 ** 32) | 0];
    const owner = [0n, 0x1000abcdef0012n, -5n, 0x8000000000000000n - 1n, 0xff00000000000000n][n % 5]!;
    const len = [0, 1, 5, 100, 257, 1000][n % 6]!;
    const data = n % 7 === 0 ? null : Buffer.from(Array.from({ length: len }, () => Math.floor(r() * 256)));
    const path = ['/', '/a', '/a/b\u00e9', '/zookeeper/quota/x', '/k' + n][n % 5]!;
    const want = referenceDigest(path, data, f, owner);
    const [czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion] = f as [number, number, number, number, number, number, number, number];
    assert.equal(digestOf(path, data, czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, owner), want, `node ${n}`);
    const stat = { czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner: owner };
    assert.equal(nodeDigest(path, data, stat), want, `node ${n} via nodeDigest`);
    // The latin1-string form of small data hashes the same bytes.
    if (data && data.length) assert.equal(nodeDigest(path, data.toString('latin1'), stat), want, `node ${n} as latin1 text`);
  }
});

test("the tree's digests, read from the store's columns, equal the plain layout of each node's fields", () => {
  const db = new ZkDatabase(new DataTree());
  const r = rng(3);
  let zxid = 0x200000000;
  const t0 = 1700000000000;
  const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
  const apply = (body: Txn['body'], clientId = 0x1000abcdef0012n) =>
    db.applyTxn({ hdr: { clientId, cxid: 1, zxid: ++zxid, time: t0 + zxid, type: body.type }, body });
  for (let i = 0; i < 40; i++) {
    const len = [0, 3, 100, 256, 300, 2000][i % 6]!;
    apply({ type: OpCode.create, path: `/n${i}`, data: Buffer.alloc(len, i), acl, ephemeral: i % 3 === 0, parentCVersion: -1 });
  }
  for (let i = 0; i < 200; i++) {
    const k = Math.floor(r() * 40);
    const len = Math.floor(r() * 600);
    apply({ type: OpCode.setData, path: `/n${k}`, data: r() < 0.1 ? null : Buffer.alloc(len, i), version: i });
  }
  const tree = db.tree;
  let sum = 0n;
  tree.walk((p, node) => {
    const path = p === '' ? '/' : p;
    const f = [node.czxid, node.mzxid, node.pzxid, node.ctime, node.mtime, node.version, node.cversion, node.aversion];
    const want = referenceDigest(path, node.dataView, f, node.ephemeralOwner);
    assert.equal(tree.nodeDigest(path, node), want, path);
    assert.equal(tree.nodeDigestAt(path), want, `${path} by path`);
    sum += BigInt(want);
  });
  assert.equal(tree.nodeDigestAt('/missing'), -1);
  assert.equal(tree.treeDigest(), BigInt.asIntN(64, sum), 'the running sum is the sum of the node digests');
  const last = tree.lastProcessedZxidDigest!;
  assert.equal(last.zxid, zxid);
  assert.equal(last.digest, tree.treeDigest(), 'the digest kept for the last txn is the tree digest after it');
  for (const d of tree.digestLog()) assert.equal(d.zxid % 128, 0);
});

test('DigestSum: two-halves arithmetic agrees with wrapping 64-bit bigint sums, and equals() with the value', () => {
  const r = rng(5);
  const s = new DigestSum();
  let ref = 0n;
  for (let i = 0; i < 20000; i++) {
    const d = Math.floor(r() * 2 ** 32);
    // Mostly adds, so the sum climbs past 2^32 and 2^63 and wraps; removals cross back below 0.
    if (r() < 0.35) {
      s.remove(d);
      ref = BigInt.asIntN(64, ref - BigInt(d));
    } else {
      s.add(d);
      ref = BigInt.asIntN(64, ref + BigInt(d));
    }
    if (i % 97 === 0) {
      assert.equal(s.value, ref, `after ${i} steps`);
      assert.ok(s.equals(ref));
      assert.ok(!s.equals(ref + 1n));
      assert.ok(!s.equals(ref ^ (1n << 40n)));
      assert.equal(joinInt64(s.high, s.low), ref);
    }
  }
  // Straight across the signed boundary.
  const t = new DigestSum();
  for (let i = 0; i < 3; i++) t.add(2 ** 32 - 1);
  t.remove(2 ** 32 - 1);
  t.remove(2 ** 32 - 1);
  t.remove(2 ** 32 - 1);
  t.remove(1);
  assert.equal(t.value, -1n);
  assert.ok(t.equals(-1n));
  assert.ok(t.equals(0xffffffffffffffffn), 'equals() wraps its argument to 64 bits as the sum does');
  t.clear();
  assert.equal(t.value, 0n);
});
