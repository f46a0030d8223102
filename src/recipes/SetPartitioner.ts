// kazoo's SetPartitioner, in kazoo's node layout so Python and Node members share one partitioning:
// members join a ShallowParty at `<path>/party` (`<uuid hex>-<identifier>`); once the party has not
// changed for `timeBoundaryMs`, each member takes its share of the set (by default kazoo's: sort
// the set and the member identifiers, member i gets items i, i+n, i+2n, ...) and holds a kazoo-named
// lock `<path>/locks/<item>` on each item, so no item is held by two members even while the party
// is changing. States as kazoo's:
//   ALLOCATING -> ACQUIRED (all locks held) | FAILURE (session lost, or a lock error)
//   ACQUIRED   -> RELEASE (party changed, or the connection was interrupted) | FAILURE
//   RELEASE    -> ALLOCATING (after releaseSet())
// FAILURE is final: make a new SetPartitioner.
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { abortableWait, sleep } from '../client/abort.js';
import { isZooKeeperError } from '../client/errors.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { Mutex } from './Mutex.js';
import { ShallowParty } from './Party.js';
import { ensurePath, isConnectionProblem, retrying, waitOptions, type WaitOptions } from './support.js';

export type PartitionState = 'ALLOCATING' | 'ACQUIRED' | 'RELEASE' | 'FAILURE';

export type PartitionFunc = (identifier: string, members: string[], set: string[]) => string[];

/** kazoo's default partitioning (code-unit order, as Python sorts str). */
export const kazooPartitioner: PartitionFunc = (identifier, members, set) => {
  const items = [...set].sort();
  const workers = [...members].sort();
  const i = workers.indexOf(identifier);
  if (i < 0) return [];
  return items.filter((_, k) => k % workers.length === i);
};

export interface SetPartitionerOptions {
  /** Member identifier (kazoo's default: `<hostname>-<pid>`); no "/". */
  identifier?: string;
  partitionFunc?: PartitionFunc;
  /** How long the party must stay unchanged before allocating, ms (kazoo's time_boundary, 30 s). */
  timeBoundaryMs?: number;
  /** Bound of each lock attempt before re-checking the party, ms (kazoo's max_reaction_time, 1 s). */
  maxReactionTimeMs?: number;
}

export interface SetPartitionerEvents {
  state: [PartitionState];
}

export class SetPartitioner extends EventEmitter<SetPartitionerEvents> {
  readonly identifier: string;
  private readonly set: string[];
  private readonly partitionFunc: PartitionFunc;
  private readonly timeBoundaryMs: number;
  private readonly maxReactionTimeMs: number;
  private readonly party: ShallowParty;
  private readonly lockPath: string;
  private readonly partyPath: string;
  private _state: PartitionState = 'ALLOCATING';
  /** Bumped on every state change, as kazoo's state_id, to spot races. */
  private stateId = 0;
  private partitionSet: string[] = [];
  private locks: Mutex[] = [];
  private started = false;
  private readonly onDisconnected = () => {
    // kazoo moves to RELEASE on any connection state change but LOST: the locks may have gone.
    if (this._state !== 'FAILURE' && this._state !== 'RELEASE') this.setState('RELEASE');
  };
  private readonly onGone = () => void this.failOut();

  constructor(
    readonly zk: ZooKeeper,
    readonly path: string,
    set: Iterable<string | number>,
    options: SetPartitionerOptions = {},
  ) {
    super();
    this.set = [...set].map(String);
    for (const s of this.set) if (s.includes('/')) throw new TypeError(`set item "${s}" cannot contain "/" (it names a lock node)`);
    this.identifier = options.identifier ?? `${hostname()}-${process.pid}`;
    this.partitionFunc = options.partitionFunc ?? kazooPartitioner;
    this.timeBoundaryMs = options.timeBoundaryMs ?? 30000;
    this.maxReactionTimeMs = options.maxReactionTimeMs ?? 1000;
    this.lockPath = `${path}/locks`;
    this.partyPath = `${path}/party`;
    this.party = new ShallowParty(zk, this.partyPath, this.identifier);
  }

  get state(): PartitionState {
    return this._state;
  }
  get failed(): boolean {
    return this._state === 'FAILURE';
  }
  get release(): boolean {
    return this._state === 'RELEASE';
  }
  get allocating(): boolean {
    return this._state === 'ALLOCATING';
  }
  get acquired(): boolean {
    return this._state === 'ACQUIRED';
  }

  /** The items this member holds (empty unless ACQUIRED). */
  get partitions(): string[] {
    return this._state === 'ACQUIRED' ? [...this.partitionSet] : [];
  }

  [Symbol.iterator](): Iterator<string> {
    return this.partitions[Symbol.iterator]();
  }

  private setState(s: PartitionState): void {
    this._state = s;
    this.stateId++;
    this.emit('state', s);
  }

  /** Creates the paths, joins the party and starts allocating (kazoo does this in its constructor). */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.started) throw new Error('already started');
    this.started = true;
    const { signal } = options;
    await ensurePath(this.zk, this.path, signal);
    await ensurePath(this.zk, this.lockPath, signal);
    await ensurePath(this.zk, this.partyPath, signal);
    await this.party.join({ signal });
    this.zk.on('disconnected', this.onDisconnected);
    this.zk.on('expired', this.onGone);
    this.zk.on('closed', this.onGone);
    void this.allocate();
  }

  /**
   * Resolves with the state once it is no longer ALLOCATING (or after `timeoutMs`, with ALLOCATING);
   * rejects with `signal.reason` when aborted.
   */
  waitForAcquire(options?: number | WaitOptions): Promise<PartitionState> {
    const { timeoutMs, signal } = waitOptions(options);
    if (this._state !== 'ALLOCATING') return Promise.resolve(this._state);
    return abortableWait<PartitionState>(signal, (resolve) => {
      const on = (s: PartitionState) => {
        if (s !== 'ALLOCATING') resolve(s);
      };
      this.on('state', on);
      const t = timeoutMs === undefined ? null : setTimeout(() => resolve(this._state), Math.max(0, timeoutMs));
      return () => {
        this.off('state', on);
        if (t) clearTimeout(t);
      };
    });
  }

  /** Gives the locks up and allocates again (call it in RELEASE). */
  async releaseSet(): Promise<void> {
    await this.releaseLocks();
    if (this.locks.length > 0) {
      await this.failOut();
      return;
    }
    if (this._state === 'FAILURE') return;
    this.setState('ALLOCATING');
    void this.allocate();
  }

  /** Releases the set and leaves the party; the partitioner ends in FAILURE, as kazoo's finish(). */
  async finish(): Promise<void> {
    await this.releaseLocks();
    await this.failOut();
  }

  private async failOut(): Promise<void> {
    if (this._state !== 'FAILURE') this.setState('FAILURE');
    this.zk.off('disconnected', this.onDisconnected);
    this.zk.off('expired', this.onGone);
    this.zk.off('closed', this.onGone);
    // Locks still listed are dropped locally; their ephemeral nodes go with the session if it is over.
    if (this.party.participating && this.zk.state !== 'expired' && this.zk.state !== 'closed') {
      await this.party.leave().catch(() => {});
    }
  }

  private async releaseLocks(): Promise<void> {
    for (const lock of [...this.locks]) {
      try {
        await lock.release();
        this.locks.splice(this.locks.indexOf(lock), 1);
      } catch {
        // kept in the list: the caller fails out
      }
    }
  }

  /** Waits until the party's children have not changed for timeBoundaryMs; returns the members and a change flag. */
  private async stableParty(): Promise<{ members: string[]; changed: { value: boolean } }> {
    for (;;) {
      const changed = { value: false };
      const children: string[] = await retrying(this.zk, () =>
        this.zk.getChildren(this.partyPath, () => {
          changed.value = true;
          this.onPartyChange();
        }),
      );
      await sleep(this.timeBoundaryMs);
      if (!changed.value) return { members: children.map((c) => c.slice(c.indexOf('-') + 1)), changed };
    }
  }

  private onPartyChange(): void {
    if (this._state === 'ACQUIRED') this.setState('RELEASE');
  }

  private async allocate(): Promise<void> {
    let stateId: number;
    let members: string[];
    let changed: { value: boolean };
    try {
      ({ members, changed } = await this.stableParty());
    } catch {
      await this.failOut();
      return;
    }
    if (this._state !== 'ALLOCATING') return;
    stateId = this.stateId;
    // True when allocation must stop: the party changed (start over) or the state moved on.
    const abortIfNeeded = async (): Promise<boolean> => {
      if (this.stateId === stateId) {
        if (!changed.value) return false;
        await this.releaseLocks();
        if (this.locks.length > 0) await this.failOut();
        else void this.allocate();
        return true;
      }
      if (this._state === 'ALLOCATING' || this._state === 'ACQUIRED') this.setState('RELEASE');
      return true;
    };
    const share = this.partitionFunc(this.identifier, members, this.set);
    for (const item of share) {
      const lock = new Mutex(this.zk, `${this.lockPath}/${item}`, { naming: 'kazoo' });
      for (;;) {
        let got: boolean;
        try {
          got = await lock.acquire(this.maxReactionTimeMs);
        } catch (e) {
          if (isConnectionProblem(e) || isZooKeeperError(e)) {
            await this.finish();
            return;
          }
          throw e;
        }
        if (got) break;
        if (await abortIfNeeded()) return;
      }
      if (this.failed) {
        // finish() ran while this lock was being taken: nobody would release it.
        await lock.release().catch(() => {});
        return;
      }
      this.locks.push(lock);
      if (await abortIfNeeded()) return;
    }
    if (this.stateId === stateId && !changed.value) {
      this.partitionSet = share;
      this.setState('ACQUIRED');
      return;
    }
    if (!(await abortIfNeeded())) await this.failOut();
  }
}
