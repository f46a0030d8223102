// WatchManager spreading a big fan-out over turns (issue 10): which watches fire is settled at
// the change, each watcher keeps event order, and a watcher about to reply is handed what it is
// owed first. The deferral is driven by hand here; test/server/fanout-order.test.ts does the
// same over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOTIFICATIONS_PER_TURN, WatchManager, type Watcher } from '../../src/tree/WatchManager.js';
import { EventType } from '../../src/protocol/constants.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

class FakeWatcher implements Watcher {
  got: string[] = [];
  pendingNotifications = 0;
  constructor(readonly readable = true) {}
  notify(type: number, path: string): void {
    this.got.push(`${type}:${path}`);
  }
  canRead(): boolean {
    return this.readable;
  }
}

function manualDefer(wm: WatchManager): Array<() => void> {
  const queue: Array<() => void> = [];
  wm.defer = (fn) => queue.push(fn);
  return queue;
}

function runTurn(queue: Array<() => void>): void {
  const fns = queue.splice(0);
  for (const f of fns) f();
}

test('a fan-out beyond one slice is handed out NOTIFICATIONS_PER_TURN watchers per turn, none lost', () => {
  const wm = new WatchManager();
  const q = manualDefer(wm);
  const n = 2 * NOTIFICATIONS_PER_TURN + 500;
  const ws = Array.from({ length: n }, () => new FakeWatcher());
  for (const w of ws) wm.addDataWatch('/fan', w);
  wm.trigger([{ type: EventType.NodeDataChanged, path: '/fan', acl: OPEN }]);
  // Fired at the change: the one-shot watches are used up even though nobody is told yet.
  assert.equal(wm.totalWatches, 0);
  assert.equal(ws.filter((w) => w.got.length > 0).length, 0);
  assert.ok(ws.every((w) => w.pendingNotifications === 1));
  const told: number[] = [];
  while (q.length > 0) {
    runTurn(q);
    told.push(ws.filter((w) => w.got.length > 0).length);
  }
  assert.deepEqual(told, [NOTIFICATIONS_PER_TURN, 2 * NOTIFICATIONS_PER_TURN, n]);
  assert.ok(ws.every((w) => w.got.length === 1 && w.got[0] === `${EventType.NodeDataChanged}:/fan` && w.pendingNotifications === 0));
  assert.equal(wm.fanOutPending, false);
});

test('deliverPending hands one watcher its events, in order, ahead of the others', () => {
  const wm = new WatchManager();
  const q = manualDefer(wm);
  const n = NOTIFICATIONS_PER_TURN + 10;
  const ws = Array.from({ length: n }, () => new FakeWatcher());
  for (const w of ws) wm.addPersistent('/busy', w, true);
  const last = ws[n - 1]!;
  // Three events, each for every watcher: queued behind one another.
  wm.trigger([
    { type: EventType.NodeCreated, path: '/busy/a', acl: OPEN },
    { type: EventType.NodeDataChanged, path: '/busy/a', acl: OPEN },
    { type: EventType.NodeDeleted, path: '/busy/a', acl: OPEN },
  ]);
  assert.equal(last.pendingNotifications, 3);
  wm.deliverPending(last);
  assert.deepEqual(last.got, [`${EventType.NodeCreated}:/busy/a`, `${EventType.NodeDataChanged}:/busy/a`, `${EventType.NodeDeleted}:/busy/a`]);
  assert.equal(last.pendingNotifications, 0);
  assert.equal(ws[0]!.got.length, 0, 'the others wait for their turn');
  while (q.length > 0) runTurn(q);
  for (const w of ws) {
    assert.deepEqual(w.got, [`${EventType.NodeCreated}:/busy/a`, `${EventType.NodeDataChanged}:/busy/a`, `${EventType.NodeDeleted}:/busy/a`]);
    assert.equal(w.pendingNotifications, 0);
  }
});

test('a small event behind a spread fan-out waits its turn; once drained, events go out at once again', () => {
  const wm = new WatchManager();
  const q = manualDefer(wm);
  const ws = Array.from({ length: NOTIFICATIONS_PER_TURN + 1 }, () => new FakeWatcher());
  for (const w of ws) wm.addDataWatch('/big', w);
  const both = ws[ws.length - 1]!;
  wm.addDataWatch('/small', both);
  wm.trigger([{ type: EventType.NodeDataChanged, path: '/big', acl: OPEN }]);
  wm.trigger([{ type: EventType.NodeDataChanged, path: '/small', acl: OPEN }]);
  assert.deepEqual(both.got, [], 'the small event may not overtake the big one');
  while (q.length > 0) runTurn(q);
  assert.deepEqual(both.got, [`${EventType.NodeDataChanged}:/big`, `${EventType.NodeDataChanged}:/small`]);
  wm.addDataWatch('/small', both);
  wm.trigger([{ type: EventType.NodeDataChanged, path: '/small', acl: OPEN }]);
  assert.equal(both.got.length, 3, 'nothing queued: told in the same turn');
  assert.equal(q.length, 0);
});

test('ACLs are still checked per watcher in a spread fan-out; without defer everything is immediate', () => {
  const wm = new WatchManager();
  const q = manualDefer(wm);
  const ws = Array.from({ length: NOTIFICATIONS_PER_TURN + 1 }, (_, i) => new FakeWatcher(i % 2 === 0));
  for (const w of ws) wm.addDataWatch('/acl', w);
  wm.trigger([{ type: EventType.NodeDataChanged, path: '/acl', acl: OPEN }]);
  while (q.length > 0) runTurn(q);
  ws.forEach((w, i) => assert.equal(w.got.length, i % 2 === 0 ? 1 : 0));

  const plain = new WatchManager();
  const many = Array.from({ length: 3 * NOTIFICATIONS_PER_TURN }, () => new FakeWatcher());
  for (const w of many) plain.addDataWatch('/x', w);
  plain.trigger([{ type: EventType.NodeDeleted, path: '/x', acl: OPEN }]);
  assert.ok(many.every((w) => w.got.length === 1));
});
