// One client request on its way through the pipeline.
import type { Txn } from '../../protocol/txn.js';
import type { ApplyResult } from '../../tree/DataTree.js';
import type { ClientChannel } from './ClientChannel.js';

export const enum RequestKind {
  /** Changes state: answered once its txn is committed and applied. */
  Write,
  /** Runs against the applied tree when it reaches the head of its session's queue. */
  Read,
  /** sync: a read that also waits until every write submitted before it is applied. */
  Sync,
}

export class Request {
  /** Write: the result of applying its txn, once committed. */
  result: ApplyResult | null = null;
  settled = false;
  /** Write: the txn, when prepared on this server. */
  txn: Txn | null = null;
  /** Sync: answered once the applied zxid reaches this. */
  waitZxid = 0;
  /** Extra work once answered (handshake completion, closing the connection). */
  after: ((res: ApplyResult | null) => void) | null = null;

  constructor(
    public channel: ClientChannel | null,
    /** The session whose order this request keeps; it outlives a connection. */
    readonly sessionId: bigint,
    readonly xid: number,
    readonly type: number,
    readonly kind: RequestKind,
    readonly startedAt: number,
    /** Reads keep their request bytes until they run. */
    readonly body: Buffer | null,
  ) {}
}
