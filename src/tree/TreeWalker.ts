// A pre-order walk over the NodeStore that can be paused between steps while the tree changes
// (what a fuzzy snapshot written in slices needs), without a lookup or a handle per node: it
// holds ids with their paths, and only when nodes were removed during a pause (ids may then be
// reused) does it find the ids it still holds again by path.
import { NIL, ROOT, type NodeStore } from './NodeStore.js';

export class TreeWalker {
  private readonly ids: number[] = [ROOT];
  private readonly paths: string[] = ['/'];
  private removals: number;
  /** Stack depth before the current node's children were pushed. */
  private mark = 0;
  /** The node the last next() returned. */
  id = NIL;
  /** Its path ('/' for the root). */
  path = '';

  constructor(private readonly store: NodeStore) {
    this.removals = store.removals;
    if (store.count === 0) this.ids.pop(), this.paths.pop();
  }

  /** Step to the next node (children newest first, as DataTree.walk); false at the end. */
  next(): boolean {
    const st = this.store;
    if (st.removals !== this.removals) this.revalidate();
    const id = this.ids.pop();
    if (id === undefined) return false;
    const path = this.paths.pop()!;
    this.id = id;
    this.path = path;
    this.mark = this.ids.length;
    const prefix = path === '/' ? '/' : path + '/';
    for (let c = st.firstChild[id]!; c !== NIL; c = st.nextSibling[c]!) {
      this.ids.push(c);
      this.paths.push(prefix + st.name(c));
    }
    return true;
  }

  /** Leave out the subtree of the node the last next() returned. */
  skipChildren(): void {
    this.ids.length = this.mark;
    this.paths.length = this.mark;
  }

  private revalidate(): void {
    const st = this.store;
    let n = 0;
    for (let i = 0; i < this.ids.length; i++) {
      const id = st.lookup(this.paths[i]!);
      if (id === NIL) continue;
      this.ids[n] = id;
      this.paths[n++] = this.paths[i]!;
    }
    this.ids.length = n;
    this.paths.length = n;
    this.removals = st.removals;
  }
}
