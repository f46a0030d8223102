// A ZooKeeper handle ends for good when its session expires. Curator's CuratorFramework hides that
// by opening a new session underneath; RenewingSession does the same for the recipes that must
// outlive a session (PersistentNode, PersistentTtlNode): it holds the current client and, when
// that client's session expires, connects a new one and announces it with a 'session' event.
import { EventEmitter } from 'node:events';
import { sleep } from '../client/abort.js';
import { ZooKeeper, type ZooKeeperOptions } from '../client/ZooKeeper.js';

export interface RenewingSessionEvents {
  /** A new session replaced an expired one; recipes re-attach to this client. */
  session: [ZooKeeper];
  /** Connecting a replacement failed once (it is retried until close). */
  renewError: [unknown];
  closed: [];
}

export type RenewingSessionOptions = ZooKeeperOptions & { connectTimeout?: number };

export class RenewingSession extends EventEmitter<RenewingSessionEvents> {
  private zk: ZooKeeper;
  private closed = false;
  private renewing: Promise<void> | null = null;
  /** Sessions opened after the first one. */
  renewals = 0;
  private readonly onExpired = () => {
    if (!this.closed && !this.renewing) this.renewing = this.renew().finally(() => (this.renewing = null));
  };

  private constructor(
    readonly connectString: string,
    private readonly options: RenewingSessionOptions,
    first: ZooKeeper,
  ) {
    super();
    this.zk = first;
    first.on('expired', this.onExpired);
  }

  /** Connects the first session (failing as ZooKeeper.connect does if it cannot). */
  static async connect(connectString: string, options: RenewingSessionOptions = {}): Promise<RenewingSession> {
    return new RenewingSession(connectString, options, await ZooKeeper.connect(connectString, options));
  }

  /** The client of the current session (an expired one until its replacement is connected). */
  get client(): ZooKeeper {
    return this.zk;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private async renew(): Promise<void> {
    let pause = 10;
    while (!this.closed) {
      let next: ZooKeeper;
      try {
        next = await ZooKeeper.connect(this.connectString, this.options);
      } catch (e) {
        if (this.listenerCount('renewError') > 0) this.emit('renewError', e);
        await sleep(pause);
        pause = Math.min(pause * 2, 1000);
        continue;
      }
      if (this.closed) {
        await next.close().catch(() => {});
        return;
      }
      this.zk.off('expired', this.onExpired);
      this.zk = next;
      this.renewals++;
      next.on('expired', this.onExpired);
      this.emit('session', next);
      // It may have expired already while the listeners ran.
      if (next.state === 'expired') continue;
      return;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.zk.off('expired', this.onExpired);
    await this.renewing?.catch(() => {});
    await this.zk.close().catch(() => {});
    this.emit('closed');
  }
}

/** What a recipe that outlives sessions accepts: a plain client (one session) or a renewing one. */
export type ClientSource = ZooKeeper | RenewingSession;
