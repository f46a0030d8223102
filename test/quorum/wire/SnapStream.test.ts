// What a leader of ours sends after SNAP: the storage layer's snapshot body (form 'body') and the
// signature. Rebuilt from the database Apache sent in the recordings, it must carry the same
// database, parents before children (all a learner's deserializer needs). The bytes are not
// Apache's: Apache orders the ACL map and sibling nodes by Java hash iteration, storage by first
// use and insertion; no learner depends on that order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serializeSnapshotSync, type SnapshotBody } from '../../../src/storage/Snapshot.js';
import { DataTree } from '../../../src/tree/DataTree.js';
import { ZkDatabase } from '../../../src/tree/ZkDatabase.js';
import { QuorumStreamReader, decodeSnapStream, encodePacket, packet, PacketType, snapSignatureBytes } from '../../../src/quorum/wire/QuorumPacket.js';
import { loadVectorFile } from './vectors.js';

function byPath(b: SnapshotBody) {
  return [...b.nodes].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

for (const name of ['follower-restart-snap.jsonl', 'observer.jsonl']) {
  test(`${name}: our database serialization carries Apache's SNAP database, parents first`, () => {
    const frame = loadVectorFile(name).frames.find((f) => f.kind === 'snapshot');
    assert.ok(frame, 'the recording has a SNAP stream');
    const apache = decodeSnapStream(Buffer.from(frame.hex, 'hex'));
    const db = new ZkDatabase(DataTree.fromSnapshot(apache.acls, apache.nodes));
    for (const [id, timeout] of apache.sessions) db.sessions.set(id, timeout);
    const ours = Buffer.concat([...serializeSnapshotSync(db, { form: 'body' }).chunks, snapSignatureBytes()]);
    assert.equal(ours.length, frame.hex.length / 2, 'same size');

    // Through the stream reader, as a learner receives it: SNAP packet, then the stream.
    const reader = new QuorumStreamReader();
    reader.push(encodePacket(packet(PacketType.SNAP, db.lastProcessedZxid)));
    reader.push(ours);
    assert.equal(reader.next()?.kind, 'packet');
    const got = reader.next();
    assert.ok(got && got.kind === 'snapshot');
    assert.equal(reader.pending(), 0);
    const body = got.snapshot;
    assert.deepEqual(body.sessions, apache.sessions);
    assert.deepEqual(new Map(body.acls), new Map(apache.acls));
    assert.deepEqual(byPath(body), byPath(apache));
    const seen = new Set<string>();
    for (const n of body.nodes) {
      if (n.path !== '') {
        const parent = n.path.slice(0, n.path.lastIndexOf('/'));
        assert.ok(seen.has(parent), `${n.path} after its parent`);
      }
      seen.add(n.path);
    }
  });
}
