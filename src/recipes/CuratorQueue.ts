// Curator's queues (QueueBuilder: DistributedQueue, DistributedPriorityQueue, DistributedDelayQueue)
// in Curator's layout, so Java and Node producers and consumers can share one queue path:
// - every item is a PERSISTENT_SEQUENTIAL child named `queue-<key><sequence>`;
// - plain queue: key empty, items taken in name order (that is, by sequence);
// - priority queue: key is `1` (priority >= 0) or `0` (negative) followed by the priority as 8
//   upper-case hex digits of its 32-bit two's complement, so name order is priority order
//   (lower first), then sequence;
// - delay queue: key is `|<epoch ms as upper-case hex, at least 8 digits>|`; an item is not taken
//   before that time, and items are taken in order of their due time;
// - node data is Curator's ItemSerializer envelope: int32 version 0x00010001, then per item the
//   byte 0x01, an int32 length and the item's bytes, then the byte 0x02. One node may carry
//   several items (putMulti); take() hands them out one by one.
// A consumer takes an item as Curator's does without a lock path: it reads the node and deletes
// that version; whoever deletes it owns it. Children not starting with `queue-` are ignored.
// A put whose reply is lost with the connection is sent again (as Curator's retry policy does),
// so an item may in rare cases be queued twice; it is never lost.
import { Err } from '../protocol/constants.js';
import { abortableWait } from '../client/abort.js';
import { isZooKeeperError, ZooKeeperError } from '../client/errors.js';
import { joinPath } from '../client/paths.js';
import { toBuffer, type Data } from '../client/types.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { ensurePath, isConnectionProblem, retrying, sequenceOf, waitOptions, type WaitOptions } from './support.js';

export const QUEUE_ITEM_PREFIX = 'queue-';
const VERSION = 0x00010001;
const ITEM = 0x01;
const EOF = 0x02;

/** Curator's ItemSerializer envelope around one or more items. */
export function encodeQueueItems(items: Data[]): Buffer {
  const bufs = items.map((i) => toBuffer(i) ?? Buffer.alloc(0));
  const out = Buffer.alloc(4 + bufs.reduce((n, b) => n + 5 + b.length, 0) + 1);
  let at = out.writeInt32BE(VERSION, 0);
  for (const b of bufs) {
    at = out.writeUInt8(ITEM, at);
    at = out.writeInt32BE(b.length, at);
    at += b.copy(out, at);
  }
  out.writeUInt8(EOF, at);
  return out;
}

/** The items of a queue node; throws on anything that is not Curator's envelope. */
export function decodeQueueItems(data: Buffer): Buffer[] {
  const bad = (why: string) => new ZooKeeperError(Err.BadArguments, undefined, `not a Curator queue item: ${why}`);
  if (data.length < 5) throw bad('too short');
  const version = data.readInt32BE(0);
  if (version !== VERSION) throw bad(`version ${version}`);
  const items: Buffer[] = [];
  let at = 4;
  for (;;) {
    if (at >= data.length) throw bad('no end marker');
    const op = data.readUInt8(at++);
    if (op === EOF) return items;
    if (op !== ITEM) throw bad(`opcode ${op}`);
    if (at + 4 > data.length) throw bad('truncated length');
    const size = data.readInt32BE(at);
    at += 4;
    if (size < 0 || at + size > data.length) throw bad(`item size ${size}`);
    items.push(Buffer.from(data.subarray(at, at + size)));
    at += size;
  }
}

/** Curator's DistributedPriorityQueue.priorityToString. */
export function priorityKey(priority: number): string {
  if (!Number.isInteger(priority) || priority < -(2 ** 31) || priority >= 2 ** 31) throw new RangeError('priority must be a 32-bit integer');
  return (priority >= 0 ? '1' : '0') + (priority >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** Curator's DistributedDelayQueue.epochToString. */
export function delayKey(epochMs: number): string {
  if (!Number.isInteger(epochMs) || epochMs <= 0) throw new RangeError('delayUntilEpoch must be a positive integer (ms since the epoch)');
  return `|${epochMs.toString(16).toUpperCase().padStart(8, '0')}|`;
}

/** Due time of a delay-queue item name (0, i.e. due now, when it carries none), as Curator reads it. */
export function delayOfName(name: string): number {
  const i2 = name.lastIndexOf('|');
  const i1 = i2 > 0 ? name.lastIndexOf('|', i2 - 1) : -1;
  if (i1 > 0 && i2 > i1 + 1) {
    const hex = name.slice(i1 + 1, i2);
    if (/^[0-9a-fA-F]+$/.test(hex)) return parseInt(hex, 16);
  }
  return 0;
}

abstract class CuratorQueueBase {
  private ensured = false;
  /** Items of a multi-item node already taken off the queue, handed out before the next node. */
  private readonly pending: Buffer[] = [];

  constructor(
    readonly zk: ZooKeeper,
    readonly path: string,
  ) {}

  /** Item names in the order consumers take them (due time `now` for delay queues). */
  protected abstract order(names: string[], now: number): string[];

  /** ms until `name` may be taken (0 = now). */
  protected dueIn(_name: string, _now: number): number {
    return 0;
  }

  private async ensure(signal?: AbortSignal): Promise<void> {
    if (this.ensured) return;
    await ensurePath(this.zk, this.path, signal);
    this.ensured = true;
  }

  protected async putNode(key: string, items: Data[], signal?: AbortSignal): Promise<string> {
    if (items.length === 0) throw new TypeError('no items to put');
    await this.ensure(signal);
    const data = encodeQueueItems(items);
    const name = joinPath(this.path, QUEUE_ITEM_PREFIX + key);
    for (;;) {
      try {
        return await this.zk.create(name, data, { mode: 'PERSISTENT_SEQUENTIAL', signal });
      } catch (e) {
        if (isZooKeeperError(e, Err.NoNode)) {
          this.ensured = false;
          await this.ensure(signal);
          continue;
        }
        if (!isConnectionProblem(e)) throw e;
        await this.zk.waitConnected({ signal });
      }
    }
  }

  private async names(watch: boolean, signal?: AbortSignal): Promise<{ names: string[]; watch: Promise<unknown> | null }> {
    await this.ensure(signal);
    if (watch) {
      const r = await retrying(this.zk, () => this.zk.getChildren(this.path, true, { signal }), signal);
      return { names: r.children.filter((c: string) => c.startsWith(QUEUE_ITEM_PREFIX)), watch: r.watch };
    }
    const c = await retrying(this.zk, () => this.zk.getChildren(this.path, null, { signal }), signal);
    return { names: c.filter((n) => n.startsWith(QUEUE_ITEM_PREFIX)), watch: null };
  }

  /** Takes the first due item, or null when none is due now. */
  async poll(options: { signal?: AbortSignal } = {}): Promise<Buffer | null> {
    const queued = this.pending.shift();
    if (queued) return queued;
    const now = Date.now();
    const { names } = await this.names(false, options.signal);
    for (const n of this.order(names, now)) {
      if (this.dueIn(n, now) > 0) break;
      const got = await this.tryTake(n);
      if (got) return got;
    }
    return null;
  }

  /**
   * Takes the first due item, waiting for one; null after `timeoutMs`. An aborted signal rejects
   * with `signal.reason` (checked between items, so an item whose delete was sent is returned).
   */
  async take(options?: number | WaitOptions): Promise<Buffer | null> {
    const { timeoutMs, signal } = waitOptions(options);
    signal?.throwIfAborted();
    const queued = this.pending.shift();
    if (queued) return queued;
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const { names, watch } = await this.names(true, signal);
      const now = Date.now();
      let wait = Infinity;
      for (const n of this.order(names, now)) {
        signal?.throwIfAborted();
        const due = this.dueIn(n, now);
        if (due > 0) {
          wait = due;
          break;
        }
        const got = await this.tryTake(n);
        if (got) return got;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return null;
      const limit = Math.min(remaining, wait);
      await abortableWait<void>(signal, (resolve) => {
        watch!.then(() => resolve(), () => resolve());
        const t = Number.isFinite(limit) ? setTimeout(resolve, limit) : null;
        return () => {
          if (t) clearTimeout(t);
        };
      });
      if (this.zk.state === 'expired' || this.zk.state === 'closed') throw new ZooKeeperError(Err.SessionExpired);
    }
  }

  /** Reads then deletes that version of one node; null if another consumer got it first. */
  private async tryTake(name: string): Promise<Buffer | null> {
    const itemPath = joinPath(this.path, name);
    let data: Buffer;
    let version: number;
    try {
      const r = await retrying(this.zk, () => this.zk.getData(itemPath));
      data = r.data ?? Buffer.alloc(0);
      version = r.stat.version;
    } catch (e) {
      if (isZooKeeperError(e, Err.NoNode)) return null;
      throw e;
    }
    let ours = false;
    for (let first = true; ; first = false) {
      try {
        if (!first) await this.zk.waitConnected();
        await this.zk.delete(itemPath, version);
        ours = true;
        break;
      } catch (e) {
        if (isZooKeeperError(e, Err.BadVersion)) return null;
        if (isZooKeeperError(e, Err.NoNode)) {
          // Gone: someone else's delete, unless ours was the one whose reply got lost; delivering
          // it (perhaps twice) is the choice that never loses an item.
          if (first) return null;
          ours = true;
          break;
        }
        if (isZooKeeperError(e, Err.SessionExpired) || this.zk.state === 'expired' || this.zk.state === 'closed') {
          if (first) throw e;
          ours = true;
          break;
        }
        if (!isConnectionProblem(e)) throw e;
      }
    }
    if (!ours) return null;
    let items: Buffer[];
    try {
      items = decodeQueueItems(data);
    } catch {
      // Curator logs a corrupted item and drops it; a raw node's bytes are delivered as they are.
      items = [data];
    }
    const [head, ...rest] = items;
    this.pending.push(...rest);
    return head ?? null;
  }

  /** Number of queue nodes (a multi-item node counts once). */
  async size(): Promise<number> {
    return (await this.names(false)).names.length;
  }
}

/** Curator's DistributedQueue layout: FIFO by sequence. */
export class CuratorQueue extends CuratorQueueBase {
  protected order(names: string[]): string[] {
    return names.slice().sort();
  }

  put(item: Data, options: { signal?: AbortSignal } = {}): Promise<string> {
    return this.putNode('', [item], options.signal);
  }

  putMulti(items: Data[], options: { signal?: AbortSignal } = {}): Promise<string> {
    return this.putNode('', items, options.signal);
  }
}

/** Curator's DistributedPriorityQueue: lower priority numbers come out first. */
export class DistributedPriorityQueue extends CuratorQueueBase {
  protected order(names: string[]): string[] {
    return names.slice().sort();
  }

  put(item: Data, priority: number, options: { signal?: AbortSignal } = {}): Promise<string> {
    return this.putNode(priorityKey(priority), [item], options.signal);
  }

  putMulti(items: Data[], priority: number, options: { signal?: AbortSignal } = {}): Promise<string> {
    return this.putNode(priorityKey(priority), items, options.signal);
  }
}

/** Curator's DistributedDelayQueue: an item is taken no earlier than its epoch ms. */
export class DistributedDelayQueue extends CuratorQueueBase {
  protected order(names: string[]): string[] {
    // By due time, then by sequence (Curator leaves ties in listing order).
    return names.slice().sort((a, b) => delayOfName(a) - delayOfName(b) || (sequenceOf(a) < sequenceOf(b) ? -1 : sequenceOf(a) > sequenceOf(b) ? 1 : 0));
  }

  protected override dueIn(name: string, now: number): number {
    return Math.max(0, delayOfName(name) - now);
  }

  put(item: Data, delayUntilEpoch: number, options: { signal?: AbortSignal } = {}): Promise<string> {
    return this.putNode(delayKey(delayUntilEpoch), [item], options.signal);
  }

  putMulti(items: Data[], delayUntilEpoch: number, options: { signal?: AbortSignal } = {}): Promise<string> {
    return this.putNode(delayKey(delayUntilEpoch), items, options.signal);
  }
}
