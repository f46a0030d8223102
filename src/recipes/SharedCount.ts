// A shared 32-bit integer in Curator's SharedCount format: the node's data is the value as 4
// bytes, big-endian two's complement (Java's ByteBuffer.putInt), so Curator's SharedCount and this
// class read and write the same node. Conditional writes compare the node's version, as Curator's
// trySetCount does; 'change' events come from a persistent watch on the node.
import { EventEmitter } from 'node:events';
import { pushIterator } from '../client/abort.js';
import { Err } from '../protocol/constants.js';
import { isZooKeeperError, ZooKeeperError } from '../client/errors.js';
import { parentOf } from '../client/paths.js';
import type { WatchedEvent } from '../client/types.js';
import type { ConnectedInfo, ZooKeeper } from '../client/ZooKeeper.js';
import { ensurePath, retrying, type WaitOptions } from './support.js';

export interface VersionedValue<T> {
  /** The node's data version the value was read at. */
  version: number;
  value: T;
}

export interface SharedCountEvents {
  change: [VersionedValue<number>];
}

export function encodeInt(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v | 0);
  return b;
}

export function decodeInt(data: Buffer | null, path: string): number {
  if (!data || data.length !== 4) throw new ZooKeeperError(Err.BadArguments, path, `${path} holds ${data?.length ?? 0} bytes, not a 4-byte int`);
  return data.readInt32BE(0);
}

export class SharedCount extends EventEmitter<SharedCountEvents> {
  private current: VersionedValue<number> | null = null;
  private running = false;
  private readonly watcher = (ev: WatchedEvent) => {
    if (ev.type === 'NodeDataChanged' || ev.type === 'NodeCreated') void this.refresh().catch(() => {});
  };
  // Persistent watches get no catch-up events after a reconnect: read again then.
  private readonly onConnected = (info: ConnectedInfo) => {
    if (info.reconnected) void this.refresh().catch(() => {});
  };

  constructor(
    readonly zk: ZooKeeper,
    readonly path: string,
    /** Value the node is created with when it does not exist yet. */
    readonly seed: number,
  ) {
    super();
    if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 31) throw new RangeError('seed must be a 32-bit integer');
  }

  /** Creates the node with the seed if needed, reads it, and starts following changes. */
  async start(options: WaitOptions = {}): Promise<void> {
    if (this.running) return;
    const { signal } = options;
    await ensurePath(this.zk, parentOf(this.path), signal, 'CONTAINER');
    try {
      await this.zk.create(this.path, encodeInt(this.seed), { signal });
    } catch (e) {
      if (!isZooKeeperError(e, Err.NodeExists)) throw e;
    }
    this.running = true;
    this.zk.on('connected', this.onConnected);
    await retrying(this.zk, () => this.zk.addWatch(this.path, this.watcher, 'PERSISTENT', { signal }), signal);
    await this.refresh(signal);
  }

  private async refresh(signal?: AbortSignal): Promise<void> {
    if (!this.running) return;
    const { data, stat } = await retrying(this.zk, () => this.zk.getData(this.path, null, { signal }), signal);
    const next = { version: stat.version, value: decodeInt(data, this.path) };
    // Replies come in request order, so a newer version never loses to an older read.
    if (this.current && next.version <= this.current.version) return;
    this.current = next;
    this.emit('change', next);
  }

  private started(): VersionedValue<number> {
    if (!this.current) throw new Error('SharedCount not started');
    return this.current;
  }

  /** Last value seen (from start, a change event, or our own write). */
  getCount(): number {
    return this.started().value;
  }
  getVersionedValue(): VersionedValue<number> {
    return { ...this.started() };
  }

  /** Sets the value unconditionally. */
  async setCount(n: number, options: WaitOptions = {}): Promise<void> {
    const stat = await this.zk.setData(this.path, encodeInt(n), -1, { signal: options.signal });
    this.noteWrite(stat.version, n);
  }

  /** Sets `n` only if the node is still at `previous.version`; false if someone wrote in between. */
  async trySetCount(previous: VersionedValue<number>, n: number, options: WaitOptions = {}): Promise<boolean> {
    try {
      const stat = await this.zk.setData(this.path, encodeInt(n), previous.version, { signal: options.signal });
      this.noteWrite(stat.version, n);
      return true;
    } catch (e) {
      if (isZooKeeperError(e, Err.BadVersion)) {
        await this.refresh(options.signal);
        return false;
      }
      throw e;
    }
  }

  private noteWrite(version: number, value: number): void {
    if (this.current && version <= this.current.version) return;
    this.current = { version, value: value | 0 };
    this.emit('change', this.current);
  }

  /** Changes as an async iterator, from the next change on. */
  changes(options: { signal?: AbortSignal } = {}): AsyncGenerator<VersionedValue<number>, void, undefined> {
    return pushIterator<VersionedValue<number>>((push) => {
      this.on('change', push);
      return () => this.off('change', push);
    }, options.signal);
  }

  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.zk.off('connected', this.onConnected);
    await this.zk.removeWatches(this.path, 'Any', { watcher: this.watcher, local: !this.zk.isConnected }).catch(() => {});
  }
}
