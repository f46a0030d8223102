// WatchManager.trigger over a batch mixing unwatched and watched changes (it makes no set for an
// event nobody watches): exactly the right watchers fire, once each, in event order, one-shot
// watches are used up, persistent and recursive ones stay, and onTriggered counts only hits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatchManager, type Watcher } from '../../src/tree/WatchManager.js';
import { EventType } from '../../src/protocol/constants.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

class FakeWatcher implements Watcher {
  got: string[] = [];
  notify(type: number, path: string): void {
    this.got.push(`${type}:${path}`);
  }
  canRead(): boolean {
    return true;
  }
}

test('trigger: unwatched events fire nothing, watched ones fire their watchers once each, in order', () => {
  const wm = new WatchManager();
  const counted: string[] = [];
  wm.onTriggered = (type, n) => counted.push(`${type}x${n}`);
  const once = new FakeWatcher();
  const persistent = new FakeWatcher();
  const recursive = new FakeWatcher();
  const child = new FakeWatcher();
  wm.addDataWatch('/a', once);
  wm.addPersistent('/a', persistent, false);
  wm.addPersistent('/r', recursive, true);
  wm.addChildWatch('/', child);
  // Both tables watch /a for `once`-style data and `persistent`; one event hits both watchers once.
  wm.addDataWatch('/a', persistent, 2);
  const ev = (type: number, path: string) => ({ type, path, acl: OPEN });
  const batch = [
    ev(EventType.NodeDataChanged, '/nobody'),
    ev(EventType.NodeDataChanged, '/a'),
    ev(EventType.NodeCreated, '/r/x/y'),
    ev(EventType.NodeChildrenChanged, '/r/x'),
    ev(EventType.NodeDeleted, '/unwatched'),
    ev(EventType.NodeChildrenChanged, '/'),
    ev(EventType.NodeDataChanged, '/a'),
  ];
  wm.trigger(batch);
  assert.deepEqual(once.got, [`${EventType.NodeDataChanged}:/a`], 'a one-shot data watch fires once');
  assert.deepEqual(persistent.got, [`${EventType.NodeDataChanged}:/a`, `${EventType.NodeDataChanged}:/a`]);
  assert.deepEqual(recursive.got, [`${EventType.NodeCreated}:/r/x/y`], 'recursive: below it, never NodeChildrenChanged');
  assert.deepEqual(child.got, [`${EventType.NodeChildrenChanged}:/`]);
  assert.deepEqual(counted, [
    `${EventType.NodeDataChanged}x2`, `${EventType.NodeCreated}x1`, `${EventType.NodeChildrenChanged}x1`, `${EventType.NodeDataChanged}x1`,
  ]);
  assert.equal(wm.bitsOf('data', '/a', once), 0, 'the one-shot watch is used up');
  assert.equal(wm.bitsOf('child', '/', child), 0);
  wm.trigger([ev(EventType.NodeDeleted, '/nobody'), ev(EventType.NodeChildrenChanged, '/none')]);
  assert.equal(counted.length, 4, 'nothing watched, nothing counted');
});
