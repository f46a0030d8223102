// Where the request pipeline tells an audit log what was written (AuditHelper's call sites in
// ZooKeeper: FinalRequestProcessor for client writes, DataTree for a closed session's ephemerals).
import type { Txn } from '../../protocol/txn.js';
import type { ApplyResult } from '../../tree/DataTree.js';
import type { ClientChannel } from './ClientChannel.js';

export interface AuditHook {
  /**
   * The reply stage answered (or, the connection being gone, would have answered) a write of a
   * client connected to this server. `body` is the request record; `res` is null when the txn
   * was an error txn that failed before it could change anything.
   */
  write(ch: ClientChannel, type: number, body: Buffer | null, txn: Txn, res: ApplyResult | null): void;
  /** A closeSession was applied, from the client or by expiry: its ephemerals were deleted. */
  sessionClosed(txn: Txn): void;
  /** Whether write() wants the request bytes (so the pipeline keeps them only then). */
  readonly wantsBodies: boolean;
}
