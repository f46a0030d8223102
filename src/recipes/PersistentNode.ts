// Curator's PersistentNode: a node that stays present through connection loss and, given a
// RenewingSession, through session expiry (an ephemeral node comes back in the new session). It
// is (re)created whenever it may have gone: at start, when its watch says it was deleted, after a
// reconnect and in each new session. A create that meets an existing node takes it over and
// writes our data into it, as Curator does, so the latest setData survives every recreation.
// Parents are created as containers (creatingParentContainersIfNeeded).
//
// PersistentTtlNode: Curator's recipe of the same name. The node itself is a container; a child
// `touch` node created with a TTL is rewritten every ttl/2 ms. If the process stops touching it,
// the server removes the child when its TTL has passed, and then the empty container.
import { EventEmitter } from 'node:events';
import { Err } from '../protocol/constants.js';
import { abortableWait } from '../client/abort.js';
import { isZooKeeperError } from '../client/errors.js';
import { basename, joinPath, parentOf } from '../client/paths.js';
import { toBuffer, type CreateModeName, type Data, type WatchedEvent } from '../client/types.js';
import type { ConnectedInfo, ZooKeeper } from '../client/ZooKeeper.js';
import { RenewingSession, type ClientSource } from './RenewingSession.js';
import { ensurePath, isConnectionProblem, newGuid, protectedPrefix, waitOptions, type WaitOptions } from './support.js';

export type PersistentNodeMode = Exclude<CreateModeName, 'PERSISTENT_SEQUENTIAL_WITH_TTL'>;

export interface PersistentNodeOptions {
  /** Create mode of the node (default EPHEMERAL). */
  mode?: PersistentNodeMode;
  /** Initial data (default empty). */
  data?: Data;
  /**
   * Curator's withProtection: the node's name carries a GUID (`_c_<guid>-<name>`) so that a
   * create whose reply is lost is recognised rather than repeated. Default false.
   */
  useProtection?: boolean;
  /** TTL in ms, required with PERSISTENT_WITH_TTL. */
  ttl?: number;
  /** Delete the node on close (default true; PersistentTtlNode leaves it to its TTL). */
  deleteOnClose?: boolean;
}

export interface PersistentNodeEvents {
  /** The node was created or taken over (after start, reconnect, a new session or a deletion). */
  created: [path: string];
  /** A create or write failed for a reason other than the connection; it is tried again. */
  error: [unknown];
  /** close() ran, or a plain client's session ended (only a RenewingSession outlives that). */
  closed: [];
}

/** Retry pause after an error that is not about the connection (e.g. NoAuth), ms. */
const ERROR_PAUSE_MS = 1000;

export class PersistentNode extends EventEmitter<PersistentNodeEvents> {
  readonly mode: PersistentNodeMode;
  private data: Buffer;
  private readonly useProtection: boolean;
  private readonly ttl: number | undefined;
  private readonly deleteOnClose: boolean;
  private state: 'latent' | 'started' | 'closed' = 'latent';
  private nodePath: string | null = null;
  private zk: ZooKeeper;
  private running = false;
  private again = false;
  private created = false;
  private createdWaiters = new Set<() => void>();
  private errorTimer: NodeJS.Timeout | null = null;
  /** Creates made, counting recreations (for tests and metrics). */
  creations = 0;
  /** The last error that was not about the connection, if any. */
  lastError: unknown = null;
  private readonly renewing: RenewingSession | null;
  private readonly onConnected = (info: ConnectedInfo) => {
    if (info.reconnected) this.kick();
  };
  private readonly onExpired = () => {
    // A plain client cannot come back; a RenewingSession announces the new session instead.
    if (!this.renewing) void this.close();
  };
  private readonly onSession = (zk: ZooKeeper) => {
    this.attach(zk);
    this.kick();
  };
  private readonly watcher = (e: WatchedEvent) => {
    if (this.state !== 'started') return;
    if (e.type === 'NodeDeleted') this.kick();
    else if (e.type === 'NodeDataChanged' || e.type === 'NodeCreated') void this.watchNode(this.zk).catch(() => {});
  };

  constructor(
    source: ClientSource,
    /** Path of the node (the base name for sequential modes). */
    readonly basePath: string,
    options: PersistentNodeOptions = {},
  ) {
    super();
    this.renewing = source instanceof RenewingSession ? source : null;
    this.zk = source instanceof RenewingSession ? source.client : source;
    this.mode = options.mode ?? 'EPHEMERAL';
    if (this.mode === 'PERSISTENT_WITH_TTL' && !(options.ttl !== undefined && options.ttl > 0)) {
      throw new TypeError('PERSISTENT_WITH_TTL needs a positive ttl');
    }
    this.data = toBuffer(options.data ?? null) ?? Buffer.alloc(0);
    this.useProtection = options.useProtection ?? false;
    this.ttl = options.ttl;
    this.deleteOnClose = options.deleteOnClose ?? true;
  }

  /** Starts keeping the node present (in the background: see waitForInitialCreate). */
  start(): void {
    if (this.state !== 'latent') throw new Error(this.state === 'started' ? 'already started' : 'closed');
    this.state = 'started';
    this.renewing?.on('session', this.onSession);
    this.attach(this.zk);
    this.kick();
  }

  private attach(zk: ZooKeeper): void {
    this.zk.off('connected', this.onConnected);
    this.zk.off('expired', this.onExpired);
    this.zk = zk;
    zk.on('connected', this.onConnected);
    zk.on('expired', this.onExpired);
  }

  /** The node's actual path (with its sequence suffix or protection prefix), or null before the first create. */
  get actualPath(): string | null {
    return this.nodePath;
  }

  getData(): Buffer {
    return this.data;
  }

  /**
   * Resolves true once the first create (or take-over) has been done, false after `timeoutMs`;
   * rejects with `signal.reason` when aborted.
   */
  waitForInitialCreate(options?: number | WaitOptions): Promise<boolean> {
    const { timeoutMs, signal } = waitOptions(options);
    if (this.state === 'latent') return Promise.reject(new Error('not started'));
    if (this.created) return Promise.resolve(true);
    return abortableWait<boolean>(signal, (resolve) => {
      const done = () => resolve(true);
      this.createdWaiters.add(done);
      const t = timeoutMs === undefined ? null : setTimeout(() => resolve(false), Math.max(0, timeoutMs));
      return () => {
        this.createdWaiters.delete(done);
        if (t) clearTimeout(t);
      };
    });
  }

  /**
   * Sets the data kept in the node: written now if the node exists, and used for every later
   * recreation. Before the first create it only replaces the data that create will write.
   */
  async setData(data: Data): Promise<void> {
    this.data = toBuffer(data) ?? Buffer.alloc(0);
    const path = this.nodePath;
    if (this.state !== 'started' || path === null) return;
    try {
      await this.zk.setData(path, this.data);
    } catch (e) {
      // Connection trouble or a deleted node: the recreation after reconnect/deletion writes it.
      if (!isConnectionProblem(e) && !isZooKeeperError(e, Err.NoNode) && !isZooKeeperError(e, Err.SessionExpired)) throw e;
    }
  }

  /** Runs ensure() one at a time, again if asked meanwhile. */
  private kick(): void {
    if (this.state !== 'started') return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void (async () => {
      try {
        do {
          this.again = false;
          try {
            await this.ensure(this.zk);
          } catch (e) {
            if (this.state !== 'started') break;
            if (isConnectionProblem(e) || isZooKeeperError(e, Err.SessionExpired) || this.zk.state === 'closed') {
              // The reconnect (or the new session) kicks again; a request that timed out on a
              // live connection has no such event coming, so it is retried after a pause.
              if (this.zk.isConnected) this.retryLater(100);
            } else {
              this.lastError = e;
              if (this.listenerCount('error') > 0) this.emit('error', e);
              this.retryLater(ERROR_PAUSE_MS);
            }
          }
        } while (this.again && this.state === 'started');
      } finally {
        this.running = false;
      }
    })();
  }

  private retryLater(ms: number): void {
    if (this.errorTimer || this.state !== 'started') return;
    this.errorTimer = setTimeout(() => {
      this.errorTimer = null;
      this.kick();
    }, ms);
  }

  private createMode(): CreateModeName {
    // Once named, a sequential node is recreated under that same name.
    if (this.nodePath !== null) {
      if (this.mode === 'EPHEMERAL_SEQUENTIAL') return 'EPHEMERAL';
      if (this.mode === 'PERSISTENT_SEQUENTIAL') return 'PERSISTENT';
    }
    return this.mode;
  }

  /** Protected mode's `_c_<guid>-` prefix, kept until the first create is known to have happened. */
  private protectedName: string | null = null;
  private firstTried = false;

  private firstPath(): string {
    if (!this.useProtection) return this.basePath;
    this.protectedName ??= protectedPrefix(newGuid());
    return joinPath(parentOf(this.basePath), this.protectedName + basename(this.basePath));
  }

  /** After a first create of unknown outcome in protected mode: our node, found by its GUID. */
  private async findProtected(zk: ZooKeeper): Promise<string | null> {
    if (!this.useProtection || this.protectedName === null || !this.firstTried) return null;
    const dir = parentOf(this.basePath);
    await zk.sync(dir);
    let children: string[];
    try {
      children = await zk.getChildren(dir);
    } catch (e) {
      if (isZooKeeperError(e, Err.NoNode)) return null;
      throw e;
    }
    const mine = children.find((c) => c.startsWith(this.protectedName!));
    return mine === undefined ? null : joinPath(dir, mine);
  }

  /** One round: create (or take over) the node and watch it. */
  private async ensure(zk: ZooKeeper): Promise<void> {
    for (;;) {
      if (this.state !== 'started') return;
      if (this.nodePath === null) {
        const found = await this.findProtected(zk);
        if (found !== null) this.nodePath = found;
      }
      const target = this.nodePath ?? this.firstPath();
      const mode = this.createMode();
      let path: string;
      let existed = false;
      try {
        if (this.nodePath === null) this.firstTried = true;
        path = await zk.create(target, this.data, { mode, ...(this.ttl !== undefined && mode === 'PERSISTENT_WITH_TTL' ? { ttl: this.ttl } : {}) });
      } catch (e) {
        if (isZooKeeperError(e, Err.NoNode)) {
          await ensurePath(zk, parentOf(target), undefined, 'CONTAINER');
          continue;
        }
        if (!isZooKeeperError(e, Err.NodeExists)) throw e;
        path = target;
        existed = true;
      }
      if (this.state !== 'started') {
        // close() ran while the create was in flight: do not leave what it made behind.
        if (!existed && this.deleteOnClose) await zk.delete(path).catch(() => {});
        return;
      }
      this.nodePath = path;
      if (!existed) this.creations++;
      // A node that was there already gets our data, as Curator's take-over does.
      if (existed) {
        try {
          await zk.setData(path, this.data);
        } catch (e) {
          if (!isZooKeeperError(e, Err.NoNode)) throw e;
          continue; // deleted meanwhile: create again
        }
      }
      if (!(await this.watchNode(zk))) continue;
      this.lastError = null;
      this.markCreated(path);
      return;
    }
  }

  /** Sets the watch; false when the node is already gone again. */
  private async watchNode(zk: ZooKeeper): Promise<boolean> {
    const path = this.nodePath;
    if (path === null || this.state !== 'started') return true;
    return (await zk.exists(path, this.watcher)) !== null;
  }

  private markCreated(path: string): void {
    if (!this.created) {
      this.created = true;
      for (const w of [...this.createdWaiters]) w();
    }
    this.emit('created', path);
  }

  /** Stops keeping the node and deletes it (unless deleteOnClose is false). */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const wasStarted = this.state === 'started';
    this.state = 'closed';
    if (this.errorTimer) clearTimeout(this.errorTimer);
    this.renewing?.off('session', this.onSession);
    this.zk.off('connected', this.onConnected);
    this.zk.off('expired', this.onExpired);
    const path = this.nodePath;
    this.nodePath = null;
    if (wasStarted && path !== null && this.deleteOnClose && this.zk.state !== 'expired' && this.zk.state !== 'closed') {
      // Guaranteed delete as far as the session lasts: retried across connection loss.
      for (;;) {
        try {
          await this.zk.delete(path);
          break;
        } catch (e) {
          if (isZooKeeperError(e, Err.NoNode) || !isConnectionProblem(e)) break;
          try {
            await this.zk.waitConnected();
          } catch {
            break; // session over: an ephemeral node went with it
          }
        }
      }
    }
    this.emit('closed');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export interface PersistentTtlNodeOptions {
  /** Initial data of the node (default empty). */
  data?: Data;
  /** Name of the touched child (Curator's default "touch"). */
  childNodeName?: string;
  /** The child is touched every ttl/touchScheduleFactor ms (Curator's default 2). */
  touchScheduleFactor?: number;
}

export class PersistentTtlNode extends EventEmitter<{ touched: []; touchError: [unknown] }> {
  static readonly DEFAULT_CHILD_NODE_NAME = 'touch';
  static readonly DEFAULT_TOUCH_SCHEDULE_FACTOR = 2;
  readonly node: PersistentNode;
  readonly childPath: string;
  private readonly source: ClientSource;
  private timer: NodeJS.Timeout | null = null;
  private touching = false;
  /** Successful touches so far. */
  touches = 0;

  constructor(
    source: ClientSource,
    readonly path: string,
    readonly ttlMs: number,
    options: PersistentTtlNodeOptions = {},
  ) {
    super();
    if (!(ttlMs > 0)) throw new TypeError('ttlMs must be positive');
    this.source = source;
    this.node = new PersistentNode(source, path, { mode: 'CONTAINER', data: options.data ?? null, deleteOnClose: false });
    this.childPath = joinPath(path, options.childNodeName ?? PersistentTtlNode.DEFAULT_CHILD_NODE_NAME);
    this.touchEveryMs = Math.max(1, Math.floor(ttlMs / (options.touchScheduleFactor ?? PersistentTtlNode.DEFAULT_TOUCH_SCHEDULE_FACTOR)));
  }

  readonly touchEveryMs: number;

  start(): void {
    this.node.start();
    // As Curator: the first touch comes one period after start, then at a fixed rate.
    this.timer = setInterval(() => void this.touch(), this.touchEveryMs);
  }

  private get zk(): ZooKeeper {
    return this.source instanceof RenewingSession ? this.source.client : this.source;
  }

  private async touch(): Promise<void> {
    if (this.touching) return;
    this.touching = true;
    const zk = this.zk;
    try {
      try {
        await zk.setData(this.childPath, null);
      } catch (e) {
        if (!isZooKeeperError(e, Err.NoNode)) throw e;
        try {
          await zk.create(this.childPath, null, { mode: 'PERSISTENT_WITH_TTL', ttl: this.ttlMs });
        } catch (e2) {
          if (isZooKeeperError(e2, Err.NodeExists)) await zk.setData(this.childPath, null);
          else throw e2;
        }
      }
      this.touches++;
      this.emit('touched');
    } catch (e) {
      // NoNode: the parent is not there (yet); it is being recreated. Anything else waits for the next period.
      if (!isZooKeeperError(e, Err.NoNode) && this.listenerCount('touchError') > 0) this.emit('touchError', e);
    } finally {
      this.touching = false;
    }
  }

  waitForInitialCreate(options?: number | WaitOptions): Promise<boolean> {
    return this.node.waitForInitialCreate(options);
  }

  setData(data: Data): Promise<void> {
    return this.node.setData(data);
  }

  getData(): Buffer {
    return this.node.getData();
  }

  /** Stops touching; the node itself is left to its TTL, as in Curator. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.node.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
