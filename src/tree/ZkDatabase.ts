// The replicated state: the znode tree plus the global session table. Everything that
// comes out of the txn log or a quorum COMMIT is applied here.
import { OpCode } from '../protocol/constants.js';
import type { Txn } from '../protocol/txn.js';
import { DataTree, type ApplyResult, type TreeEvent } from './DataTree.js';

export class ZkDatabase {
  /** Global sessions: id → negotiated timeout (ms). */
  readonly sessions = new Map<bigint, number>();

  constructor(public tree: DataTree = new DataTree()) {}

  get lastProcessedZxid(): number {
    return this.tree.lastProcessedZxid;
  }
  set lastProcessedZxid(z: number) {
    this.tree.lastProcessedZxid = z;
  }

  applyTxn(txn: Txn, events: TreeEvent[] = []): ApplyResult {
    const { hdr, body } = txn;
    if (body.type === OpCode.createSession) this.sessions.set(hdr.clientId, body.timeOut);
    const res = this.tree.apply(txn, events);
    if (body.type === OpCode.closeSession) this.sessions.delete(hdr.clientId);
    return res;
  }

  /** After recovery: ephemerals whose session is gone are deleted locally (not logged). */
  killOrphanEphemerals(): string[] {
    const removed: string[] = [];
    for (const [owner, paths] of [...this.tree.ephemerals]) {
      if (this.sessions.has(owner)) continue;
      const txn: Txn = {
        hdr: { clientId: owner, cxid: 0, zxid: this.lastProcessedZxid, time: Date.now(), type: OpCode.closeSession },
        body: { type: OpCode.closeSession, paths2Delete: [...paths] },
      };
      removed.push(...paths);
      this.tree.apply(txn, []);
    }
    return removed;
  }
}
