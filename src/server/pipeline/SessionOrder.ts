// Per-session FIFO (ZooKeeper's guarantee that a session's requests are answered in the order
// sent): a read waits behind the session's own earlier writes, a sync also waits for every write
// submitted before it by anyone. Committed writes are matched to their waiting request by
// (sessionId, cxid), so txns that no local client waits for (other servers' clients, expiry,
// the reaper) pass through without disturbing anyone's queue.
import type { Txn } from '../../protocol/txn.js';
import type { ApplyResult } from '../../tree/DataTree.js';
import { Fifo } from '../../util/Fifo.js';
import { Request, RequestKind } from './Request.js';

export interface SessionOrderHost {
  /** Zxid of the last txn applied to the tree. */
  appliedZxid(): number;
  /** Answer a request that has reached the head of its session's queue. */
  answer(req: Request): void;
}

export class SessionOrder {
  private readonly queues = new Map<bigint, Fifo<Request>>();
  /** Sessions whose head request is a sync still waiting for writes to be applied. */
  private readonly waitingSyncs = new Set<bigint>();
  private count = 0;

  constructor(private readonly host: SessionOrderHost) {}

  /** Requests queued across all sessions. */
  get size(): number {
    return this.count;
  }

  /** Whether the session has requests still unanswered (a read must then queue). */
  busy(sessionId: bigint): boolean {
    return this.queues.has(sessionId);
  }

  enqueue(req: Request): void {
    let q = this.queues.get(req.sessionId);
    if (!q) this.queues.set(req.sessionId, (q = new Fifo()));
    q.push(req);
    this.count++;
    if (req.channel) req.channel.inflight++;
    if (q.length === 1) this.pump(req.sessionId, q);
  }

  /**
   * A committed txn was applied. Returns the local request it answers, if the first unsettled
   * write of that session has this cxid.
   */
  settle(sessionId: bigint, cxid: number, result: ApplyResult | null, txn: Txn | null = null): Request | null {
    const q = this.queues.get(sessionId);
    if (!q) return null;
    let match: Request | null = null;
    for (let i = 0; i < q.length; i++) {
      const r = q.at(i)!;
      if (r.kind !== RequestKind.Write || r.settled) continue;
      if (r.xid === cxid) match = r;
      break;
    }
    if (!match) return null;
    match.settled = true;
    match.result = result;
    // A write forwarded to the leader learns its txn only now, from the commit.
    if (!match.txn) match.txn = txn;
    this.pump(sessionId, q);
    return match;
  }

  /** The applied zxid advanced: syncs waiting for it may go. */
  appliedAdvanced(): void {
    if (this.waitingSyncs.size === 0) return;
    for (const id of [...this.waitingSyncs]) {
      const q = this.queues.get(id);
      if (q) this.pump(id, q);
      else this.waitingSyncs.delete(id);
    }
  }

  /** Answer everything at the head of a session's queue that can be answered now. */
  private pump(sessionId: bigint, q: Fifo<Request>): void {
    this.waitingSyncs.delete(sessionId);
    for (;;) {
      const head = q.peek();
      if (!head) break;
      if (head.kind === RequestKind.Write && !head.settled) break;
      if (head.kind === RequestKind.Sync && this.host.appliedZxid() < head.waitZxid) {
        this.waitingSyncs.add(sessionId);
        break;
      }
      q.shift();
      this.count--;
      if (head.channel) head.channel.inflight--;
      this.host.answer(head);
    }
    if (q.length === 0 && this.queues.get(sessionId) === q) this.queues.delete(sessionId);
  }

  /** Drop every queued request (the server is stopping); returns them. */
  clear(): Request[] {
    const out: Request[] = [];
    for (const q of this.queues.values()) for (const r of q) out.push(r);
    this.queues.clear();
    this.waitingSyncs.clear();
    this.count = 0;
    return out;
  }
}
