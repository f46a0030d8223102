// The replicated state: the znode tree plus the global session table, and the window of
// recently committed txns a leader syncs learners from. Everything that comes out of the txn
// log or a quorum COMMIT is applied here.
import { OpCode } from '../protocol/constants.js';
import type { Txn } from '../protocol/txn.js';
import { CommittedLog, DEFAULT_COMMIT_LOG_COUNT } from './CommittedLog.js';
import { DataTree, type ApplyResult, type TreeEvent } from './DataTree.js';

export interface ZkDatabaseOptions {
  /** zookeeper.commitLogCount: txns kept for DIFF sync (default and minimum 500). */
  commitLogCount?: number;
}

export class ZkDatabase {
  /** Global sessions: id → negotiated timeout (ms). */
  readonly sessions = new Map<bigint, number>();
  /** Recently committed txns (ZKDatabase.committedLog), filled by applyTxn. */
  readonly committedLog: CommittedLog;

  constructor(
    public tree: DataTree = new DataTree(),
    opts: ZkDatabaseOptions = {},
  ) {
    this.committedLog = new CommittedLog(opts.commitLogCount ?? DEFAULT_COMMIT_LOG_COUNT);
  }

  get lastProcessedZxid(): number {
    return this.tree.lastProcessedZxid;
  }
  set lastProcessedZxid(z: number) {
    this.tree.lastProcessedZxid = z;
  }

  /**
   * Apply a committed txn. `withStats` false: the results carry no Stat (stat undefined), for a
   * txn no local client waits on; the tree, digests, events and everything else are the same.
   */
  applyTxn(txn: Txn, events: TreeEvent[] = [], withStats = true): ApplyResult {
    const { hdr, body } = txn;
    if (body.type === OpCode.createSession) this.sessions.set(hdr.clientId, body.timeOut);
    const res = this.tree.apply(txn, events, withStats);
    if (body.type === OpCode.closeSession) this.sessions.delete(hdr.clientId);
    this.committedLog.add(txn);
    return res;
  }

  /**
   * Owners of ephemerals whose session is not in the session table (after a load: sessions
   * that closed in a part of history the snapshot did not see). Nothing is changed here: the
   * server closes each through the log, so every replica sees the same deletions.
   */
  orphanSessionOwners(): bigint[] {
    const out: bigint[] = [];
    for (const owner of this.tree.ephemerals.keys()) if (!this.sessions.has(owner)) out.push(owner);
    return out;
  }
}
