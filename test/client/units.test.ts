// Pure client pieces: connection strings, path rules, the client-side watch tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostProvider, parseConnectString } from '../../src/client/ConnectString.js';
import { validatePath } from '../../src/client/paths.js';
import { WatchRegistry } from '../../src/client/WatchRegistry.js';
import { EventType } from '../../src/protocol/constants.js';

test('connection strings: hosts, default port, IPv6, chroot', () => {
  assert.deepEqual(parseConnectString('a:1,b:2/app/x'), {
    hosts: [
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
    ],
    chroot: '/app/x',
  });
  assert.deepEqual(parseConnectString('h').hosts, [{ host: 'h', port: 2181 }]);
  assert.deepEqual(parseConnectString('[::1]:99/').hosts, [{ host: '::1', port: 99 }]);
  assert.equal(parseConnectString('h:1/').chroot, '');
  assert.throws(() => parseConnectString('h:1/bad/'));
  assert.throws(() => parseConnectString('h:0'));
});

test('host provider cycles through every host and reports exhausted rounds', () => {
  const hosts = Array.from({ length: 5 }, (_, i) => ({ host: 'h', port: i + 1 }));
  const hp = new HostProvider(hosts);
  const seen = new Set<number>();
  for (let i = 0; i < 5; i++) {
    assert.equal(hp.roundExhausted(), false);
    seen.add(hp.next().port);
  }
  assert.equal(seen.size, 5);
  assert.equal(hp.roundExhausted(), true);
  hp.onConnected();
  assert.equal(hp.roundExhausted(), false);
  // shuffling really happens (20 shuffles of 5 hosts all identical would be 1 in 120^19)
  const orders = new Set(Array.from({ length: 20 }, () => {
    const h = new HostProvider(hosts);
    return Array.from({ length: 5 }, () => h.next().port).join(',');
  }));
  assert.ok(orders.size > 1);
});

test('path validation follows PathUtils', () => {
  for (const ok of ['/', '/a', '/a/b', '/a.b', '/..a', '/ü']) validatePath(ok);
  for (const bad of ['', 'a', '/a/', '//a', '/a//b', '/.', '/a/..', '/a\u0000', '/\ud83d\ude00']) {
    assert.throws(() => validatePath(bad), { name: 'BadArguments', code: -8 }, JSON.stringify(bad));
  }
  validatePath('/a/', true); // sequential creates may end in '/'
});

test('watch registry: one-shot removal, persistent/recursive matching, removal events', () => {
  const r = new WatchRegistry();
  const calls: string[] = [];
  const w = (tag: string) => () => calls.push(tag);
  const data = w('data');
  const child = w('child');
  const pers = w('pers');
  const rec = w('rec');
  r.addData('/a', data);
  r.addChild('/a', child);
  r.addPersistent('/a', pers, false);
  r.addPersistent('/', rec, true);
  assert.deepEqual(r.snapshot(), { data: ['/a'], exist: [], child: ['/a'], persistent: ['/a'], persistentRecursive: ['/'] });
  assert.deepEqual([...r.materialize(EventType.NodeDataChanged, '/a')], [data, pers, rec]);
  assert.deepEqual([...r.materialize(EventType.NodeDataChanged, '/a')], [pers, rec]); // data watch was one-shot
  assert.deepEqual([...r.materialize(EventType.NodeChildrenChanged, '/a')], [child, pers]); // recursive: never children events
  assert.deepEqual([...r.materialize(EventType.NodeCreated, '/a/b/c')], [rec]);
  r.addData('/x', data);
  r.addExist('/x', data);
  assert.deepEqual([...r.materialize(EventType.NodeDeleted, '/x')], [data, rec]); // data+exist watcher delivered once
  assert.equal(r.contains('/a', 'Data'), false);
  assert.equal(r.contains('/a', 'Any'), true);
  assert.deepEqual(r.remove('/a', 'Any'), [[pers, 'PersistentWatchRemoved']]);
  assert.equal(r.drainAll().size, 1);
  assert.equal(r.isEmpty(), true);
});
