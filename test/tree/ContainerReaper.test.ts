// The reaper's candidate rules on a real DataTree built from txns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataTree } from '../../src/tree/DataTree.js';
import { reapCandidates } from '../../src/tree/ContainerReaper.js';
import { OpCode } from '../../src/protocol/constants.js';
import type { TxnBody } from '../../src/protocol/txn.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function apply(tree: DataTree, zxid: number, time: number, body: TxnBody): void {
  tree.apply({ hdr: { clientId: 1n, cxid: 0, zxid, time, type: body.type }, body }, []);
}

test('used-and-empty containers, never-used ones past the interval, and expired TTL nodes', () => {
  const t = new DataTree();
  apply(t, 1, 1000, { type: OpCode.createContainer, path: '/used', data: null, acl: OPEN, parentCVersion: -1 });
  apply(t, 2, 1000, { type: OpCode.create, path: '/used/x', data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 });
  apply(t, 3, 1000, { type: OpCode.createContainer, path: '/full', data: null, acl: OPEN, parentCVersion: -1 });
  apply(t, 4, 1000, { type: OpCode.create, path: '/full/y', data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 });
  apply(t, 5, 1000, { type: OpCode.createContainer, path: '/fresh', data: null, acl: OPEN, parentCVersion: -1 });
  apply(t, 6, 1000, { type: OpCode.createTTL, path: '/ttl', data: null, acl: OPEN, parentCVersion: -1, ttl: 500 });
  apply(t, 7, 1000, { type: OpCode.createTTL, path: '/ttl-kids', data: null, acl: OPEN, parentCVersion: -1, ttl: 500 });
  apply(t, 8, 1000, { type: OpCode.create, path: '/ttl-kids/k', data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 });
  assert.deepEqual(reapCandidates(t, 1200, 0), [], 'nothing yet: /used still has its child, TTLs not expired');
  apply(t, 9, 1300, { type: OpCode.delete, path: '/used/x' });
  assert.deepEqual(reapCandidates(t, 1400, 0), ['/used']);
  assert.deepEqual(reapCandidates(t, 1600, 0).sort(), ['/ttl', '/used'], 'TTL expired after 500 ms; a TTL node with children stays');
  assert.deepEqual(reapCandidates(t, 1600, 100).sort(), ['/fresh', '/ttl', '/used'], 'never-used container after maxNeverUsedIntervalMs');
  apply(t, 10, 1550, { type: OpCode.setData, path: '/ttl', data: Buffer.from('x'), version: 1 });
  assert.deepEqual(reapCandidates(t, 1600, 0), ['/used'], 'setData refreshes a TTL node');
});
