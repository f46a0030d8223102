// Interns ACL lists under long indexes with reference counts (ReferenceCountedACLCache):
// nodes store an index, snapshots store the index→list map.
import type { ACL } from '../protocol/records.js';

/** Index used for OPEN_ACL_UNSAFE without a map entry (the built-in nodes). */
export const OPEN_ACL_INDEX = -1;
export const OPEN_ACL_UNSAFE: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
export const READ_ACL_UNSAFE: ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];

function keyOf(acls: ACL[]): string {
  let k = '';
  for (const a of acls) k += `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}\u0001`;
  return k;
}

export class ACLCache {
  private byIndex = new Map<number, { acls: ACL[]; key: string; refs: number }>();
  private byKey = new Map<string, number>();
  private nextIndex = 0;

  /** Index for this list, adding a reference. */
  intern(acls: ACL[] | null): number {
    if (acls == null) return OPEN_ACL_INDEX;
    const key = keyOf(acls);
    let idx = this.byKey.get(key);
    if (idx === undefined) {
      idx = ++this.nextIndex;
      this.byKey.set(key, idx);
      this.byIndex.set(idx, { acls, key, refs: 0 });
    }
    this.byIndex.get(idx)!.refs++;
    return idx;
  }

  get(index: number): ACL[] {
    if (index === OPEN_ACL_INDEX) return OPEN_ACL_UNSAFE;
    const e = this.byIndex.get(index);
    if (!e) throw new Error(`ACL index ${index} not in cache`);
    return e.acls;
  }

  addRef(index: number): void {
    if (index === OPEN_ACL_INDEX) return;
    const e = this.byIndex.get(index);
    if (e) e.refs++;
  }

  release(index: number): void {
    if (index === OPEN_ACL_INDEX) return;
    const e = this.byIndex.get(index);
    if (!e) return;
    if (--e.refs <= 0) {
      this.byIndex.delete(index);
      this.byKey.delete(e.key);
    }
  }

  /** Load one snapshot entry; references are added afterwards by the nodes that use it. */
  load(index: number, acls: ACL[]): void {
    const key = keyOf(acls);
    this.byIndex.set(index, { acls, key, refs: 0 });
    this.byKey.set(key, index);
    if (index > this.nextIndex) this.nextIndex = index;
  }

  /** Drop loaded entries no node references. */
  purgeUnused(): void {
    for (const [idx, e] of this.byIndex) {
      if (e.refs <= 0) {
        this.byIndex.delete(idx);
        this.byKey.delete(e.key);
      }
    }
  }

  entries(): IterableIterator<[number, ACL[]]> {
    const it = this.byIndex.entries();
    return (function* () {
      for (const [i, e] of it) yield [i, e.acls] as [number, ACL[]];
    })();
  }

  get size(): number {
    return this.byIndex.size;
  }
}
