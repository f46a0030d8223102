// Which containers and TTL nodes the reaper should delete now (ZooKeeper's ContainerManager
// candidate rules). Pure: the server turns each candidate into a deleteContainer txn.
import type { DataTree } from './DataTree.js';
import { ttlOfOwner } from './ZNode.js';

export function reapCandidates(tree: DataTree, nowMs: number, maxNeverUsedIntervalMs: number): string[] {
  const out: string[] = [];
  for (const p of tree.containers) {
    const n = tree.get(p);
    if (!n || n.numChildren > 0) continue;
    // A container that has had children (stored cversion > 0) and is empty again goes; one that
    // never had any goes only after maxNeverUsedIntervalMs, when that is set.
    if (n.cversion > 0) out.push(p);
    else if (maxNeverUsedIntervalMs > 0 && nowMs - n.mtime > maxNeverUsedIntervalMs) out.push(p);
  }
  for (const p of tree.ttls) {
    const n = tree.get(p);
    // setData refreshes mtime, so a TTL node lives ttl ms past its last change.
    if (n && n.numChildren === 0 && nowMs - n.mtime > ttlOfOwner(n.ephemeralOwner)) out.push(p);
  }
  return out;
}
