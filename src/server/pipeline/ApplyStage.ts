// The apply stage: every committed txn, whether a local client waits for it or not (other
// members' clients, expiry, the reaper), changes the tree and the session table, fires the
// watches it triggers, and may trigger a snapshot.
import { OpCode } from '../../protocol/constants.js';
import type { Txn } from '../../protocol/txn.js';
import type { ApplyResult, TreeEvent } from '../../tree/DataTree.js';
import type { WatchManager } from '../../tree/WatchManager.js';
import type { SessionTracker } from '../../session/SessionTracker.js';
import type { Clock } from '../../runtime/Runtime.js';
import type { ZkDatabase } from '../../tree/ZkDatabase.js';

/** Called once per applied txn (the snapshot trigger, the simulation's checker). */
export interface ApplyListener {
  afterApply(db: ZkDatabase, txn: Txn): void;
}

export class ApplyStage {
  constructor(
    private readonly db: ZkDatabase,
    private readonly watches: WatchManager,
    private readonly tracker: SessionTracker,
    private readonly clock: Clock,
    private readonly listener: ApplyListener | null,
  ) {}

  /**
   * The events array of the last apply, kept for the next (the tree and the watch manager keep no
   * reference to it); taken out while in use, so an apply nested in a watch fires gets its own.
   */
  private spareEvents: TreeEvent[] | null = [];

  /** Throws if the txn cannot be applied: this replica's state is then not what the log says. */
  apply(txn: Txn): ApplyResult {
    const events = this.spareEvents ?? [];
    this.spareEvents = null;
    let res: ApplyResult;
    try {
      res = this.db.applyTxn(txn, events);
      if (events.length) this.watches.trigger(events);
    } finally {
      events.length = 0;
      this.spareEvents = events;
    }
    this.listener?.afterApply(this.db, txn);
    const body = txn.body;
    if (body.type === OpCode.createSession) this.tracker.add(txn.hdr.clientId, body.timeOut, this.clock.now());
    else if (body.type === OpCode.closeSession) this.tracker.remove(txn.hdr.clientId);
    return res;
  }
}
