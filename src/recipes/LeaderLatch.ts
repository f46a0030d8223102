// Leader latch and leader election. Candidates create protected ephemeral-sequential nodes; the
// lowest is leader and each other candidate watches only its predecessor. Leadership is dropped
// as soon as the connection is lost (the session, and with it the node, may expire at any moment)
// and re-checked after reconnecting.
import { EventEmitter } from 'node:events';
import { basename, joinPath } from '../client/paths.js';
import type { ConnectedInfo, ZooKeeper } from '../client/ZooKeeper.js';
import { abortableWait } from '../client/abort.js';
import { createProtected, deleteQuietly, retrying, sortBySequence, waitForDeletion, waitOptions, type WaitOptions } from './support.js';

export interface LeaderLatchEvents {
  isLeader: [];
  notLeader: [];
  /** The latch stopped for good (closed, or its session expired). */
  closed: [];
}

export class LeaderLatch extends EventEmitter<LeaderLatchEvents> {
  private ourPath: string | null = null;
  private leader = false;
  private running = false;
  private checking = false;
  private recheck = false;
  private readonly onDisconnected = () => this.setLeader(false);
  private readonly onConnected = (info: ConnectedInfo) => {
    if (info.reconnected) void this.check();
  };
  private readonly onGone = () => void this.stop(false);

  constructor(readonly zk: ZooKeeper, readonly path: string, readonly id = '') {
    super();
  }

  get hasLeadership(): boolean {
    return this.leader && this.zk.isConnected;
  }

  /** Enters the election. An aborted signal stops the latch and rejects with `signal.reason`. */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = options;
    signal?.throwIfAborted();
    if (this.running) return;
    this.running = true;
    this.zk.on('disconnected', this.onDisconnected);
    this.zk.on('connected', this.onConnected);
    this.zk.on('expired', this.onGone);
    this.zk.on('closed', this.onGone);
    let created: string;
    try {
      created = await createProtected(this.zk, this.path, 'latch-', this.id, 'EPHEMERAL_SEQUENTIAL', undefined, signal);
    } catch (e) {
      await this.stop(false);
      throw e;
    }
    if (!this.running) {
      // close() ran while the node was being created: do not leave it behind.
      await deleteQuietly(this.zk, created).catch(() => {});
      return;
    }
    this.ourPath = created;
    void this.check();
  }

  /** Re-evaluates our position; runs one at a time, repeating if asked again meanwhile. */
  private async check(): Promise<void> {
    if (this.checking) {
      this.recheck = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.recheck = false;
        await this.checkOnce();
      } while (this.recheck && this.running);
    } catch {
      // connection trouble: the reconnect handler calls check() again; expiry stops the latch
    } finally {
      this.checking = false;
    }
  }

  private async checkOnce(): Promise<void> {
    for (;;) {
      if (!this.running || !this.ourPath) return;
      const children = sortBySequence(await retrying(this.zk, () => this.zk.getChildren(this.path)));
      const idx = children.indexOf(basename(this.ourPath));
      if (idx < 0) {
        // Our node vanished (deleted by someone, or session expired): enter again.
        this.setLeader(false);
        if (this.zk.state !== 'connected' && this.zk.state !== 'connecting' && this.zk.state !== 'disconnected') return;
        this.ourPath = await createProtected(this.zk, this.path, 'latch-', this.id, 'EPHEMERAL_SEQUENTIAL');
        continue;
      }
      if (idx === 0) {
        this.setLeader(true);
        return;
      }
      this.setLeader(false);
      await waitForDeletion(this.zk, joinPath(this.path, children[idx - 1]!));
    }
  }

  private setLeader(v: boolean): void {
    if (v && !this.zk.isConnected) v = false;
    if (this.leader === v) return;
    this.leader = v;
    this.emit(v ? 'isLeader' : 'notLeader');
  }

  /**
   * Resolves true once leader, false after the timeout (or if the latch stops); an aborted signal
   * rejects with `signal.reason` (the latch keeps its place in the election).
   */
  waitLeadership(options?: number | WaitOptions): Promise<boolean> {
    const { timeoutMs, signal } = waitOptions(options);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.hasLeadership) return Promise.resolve(true);
    if (!this.running) return Promise.resolve(false);
    return abortableWait<boolean>(signal, (resolve) => {
      const yes = () => resolve(true);
      const no = () => resolve(false);
      this.on('isLeader', yes);
      this.on('closed', no);
      const timer = timeoutMs !== undefined ? setTimeout(no, timeoutMs) : undefined;
      return () => {
        clearTimeout(timer);
        this.off('isLeader', yes);
        this.off('closed', no);
      };
    });
  }

  /** Id (node data) of the current leader, or null when there is none. */
  async getLeaderId(): Promise<string | null> {
    for (const c of sortBySequence(await retrying(this.zk, () => this.zk.getChildren(this.path)))) {
      try {
        const { data } = await this.zk.getData(joinPath(this.path, c));
        return data?.toString() ?? '';
      } catch {
        // that candidate just left; try the next
      }
    }
    return null;
  }

  async close(): Promise<void> {
    await this.stop(true);
  }

  private async stop(deleteNode: boolean): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.zk.off('disconnected', this.onDisconnected);
    this.zk.off('connected', this.onConnected);
    this.zk.off('expired', this.onGone);
    this.zk.off('closed', this.onGone);
    this.setLeader(false);
    const p = this.ourPath;
    this.ourPath = null;
    if (deleteNode && p && this.zk.state !== 'expired' && this.zk.state !== 'closed') await deleteQuietly(this.zk, p).catch(() => {});
    this.emit('closed');
  }
}

/**
 * Leader election with a callback: `takeLeadership(signal)` runs while this candidate leads;
 * `signal` aborts when leadership is lost (disconnect/expiry). When the callback returns, the
 * candidate gives up leadership and re-enters the election, until stop() is called.
 */
export class LeaderElection {
  private latch: LeaderLatch | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(
    readonly zk: ZooKeeper,
    readonly path: string,
    readonly id: string,
    private readonly takeLeadership: (signal: AbortSignal) => Promise<void>,
  ) {}

  /** Starts competing; an aborted `signal` stops the election as stop() does. */
  start(options: { signal?: AbortSignal } = {}): void {
    const { signal } = options;
    if (signal) {
      if (signal.aborted) return;
      const onAbort = () => void this.stop();
      signal.addEventListener('abort', onAbort, { once: true });
      // Drop the listener when the election ends by itself, so a long-lived signal does not keep it.
      this.loop ??= this.run().finally(() => signal.removeEventListener('abort', onAbort));
      return;
    }
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped && this.zk.state !== 'expired' && this.zk.state !== 'closed') {
      const latch = new LeaderLatch(this.zk, this.path, this.id);
      this.latch = latch;
      try {
        await latch.start();
        if (this.stopped || !(await latch.waitLeadership())) break;
        const ac = new AbortController();
        const lost = () => ac.abort();
        latch.once('notLeader', lost);
        try {
          await this.takeLeadership(ac.signal);
        } finally {
          latch.off('notLeader', lost);
        }
      } catch {
        // connection trouble or the callback failed: relinquish and run again
      } finally {
        await latch.close();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.latch?.close();
    await this.loop;
  }
}
