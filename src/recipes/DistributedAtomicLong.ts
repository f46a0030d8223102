// A 64-bit counter stored as Curator's DistributedAtomicLong stores it: the node's data is the
// value as 8 bytes, big-endian two's complement (Java's ByteBuffer.putLong), so Java services using
// Curator and Node services using this class share one counter. Updates are optimistic
// compare-and-set on the node's version, as Curator's optimistic mode.
import { Err } from '../protocol/constants.js';
import { isZooKeeperError, ZooKeeperError } from '../client/errors.js';
import { parentOf } from '../client/paths.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { ensurePath, retrying, type WaitOptions } from './support.js';

/** Outcome of an update, as Curator's AtomicValue. */
export interface AtomicValue<T> {
  /** False when the value changed under us on every attempt the options allowed. */
  succeeded: boolean;
  preValue: T;
  postValue: T;
}

export function encodeLong(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt.asIntN(64, v));
  return b;
}

/** Curator reads an absent or empty node as 0; other lengths are not its format. */
export function decodeLong(data: Buffer | null, path: string): bigint {
  if (!data || data.length === 0) return 0n;
  if (data.length !== 8) throw new ZooKeeperError(Err.BadArguments, path, `${path} holds ${data.length} bytes, not an 8-byte long`);
  return data.readBigInt64BE(0);
}

export class DistributedAtomicLong {
  constructor(
    readonly zk: ZooKeeper,
    readonly path: string,
    /** Attempts of an update before it reports `succeeded: false` (Curator's retry policy count). */
    readonly maxAttempts = 100,
  ) {}

  private async read(signal?: AbortSignal): Promise<{ value: bigint; version: number } | null> {
    try {
      const { data, stat } = await retrying(this.zk, () => this.zk.getData(this.path, null, { signal }), signal);
      return { value: decodeLong(data, this.path), version: stat.version };
    } catch (e) {
      if (isZooKeeperError(e, Err.NoNode)) return null;
      throw e;
    }
  }

  /** Current value (0 when the node does not exist). */
  async get(options: WaitOptions = {}): Promise<bigint> {
    return (await this.read(options.signal))?.value ?? 0n;
  }

  /**
   * Applies `fn` to the current value with compare-and-set. A write whose reply is lost with the
   * connection has an unknown outcome: that ConnectionLoss is thrown rather than risking applying
   * the update twice (Curator would retry it blindly).
   */
  private async update(fn: (cur: bigint) => bigint | null, signal?: AbortSignal): Promise<AtomicValue<bigint>> {
    let last = 0n;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      signal?.throwIfAborted();
      const cur = await this.read(signal);
      const pre = cur?.value ?? 0n;
      last = pre;
      const next = fn(pre);
      if (next === null) return { succeeded: false, preValue: pre, postValue: pre };
      try {
        if (cur) await this.zk.setData(this.path, encodeLong(next), cur.version, { signal });
        else {
          await ensurePath(this.zk, parentOf(this.path), signal);
          await this.zk.create(this.path, encodeLong(next), { signal });
        }
        return { succeeded: true, preValue: pre, postValue: BigInt.asIntN(64, next) };
      } catch (e) {
        if (isZooKeeperError(e, Err.BadVersion) || isZooKeeperError(e, Err.NodeExists) || isZooKeeperError(e, Err.NoNode)) continue;
        throw e;
      }
    }
    return { succeeded: false, preValue: last, postValue: last };
  }

  add(delta: bigint | number, options: WaitOptions = {}): Promise<AtomicValue<bigint>> {
    const d = BigInt(delta);
    return this.update((v) => v + d, options.signal);
  }
  subtract(delta: bigint | number, options: WaitOptions = {}): Promise<AtomicValue<bigint>> {
    return this.add(-BigInt(delta), options);
  }
  increment(options: WaitOptions = {}): Promise<AtomicValue<bigint>> {
    return this.add(1n, options);
  }
  decrement(options: WaitOptions = {}): Promise<AtomicValue<bigint>> {
    return this.add(-1n, options);
  }

  /** Sets `newValue` only if the current value is `expected`. */
  compareAndSet(expected: bigint | number, newValue: bigint | number, options: WaitOptions = {}): Promise<AtomicValue<bigint>> {
    const e = BigInt(expected);
    const n = BigInt(newValue);
    return this.update((v) => (v === e ? n : null), options.signal);
  }

  /** Sets the value whatever it was. */
  trySet(newValue: bigint | number, options: WaitOptions = {}): Promise<AtomicValue<bigint>> {
    const n = BigInt(newValue);
    return this.update(() => n, options.signal);
  }

  /** Creates the node with `value` if it does not exist; false if it already did. */
  async initialize(value: bigint | number, options: WaitOptions = {}): Promise<boolean> {
    await ensurePath(this.zk, parentOf(this.path), options.signal);
    try {
      await this.zk.create(this.path, encodeLong(BigInt(value)), { signal: options.signal });
      return true;
    } catch (e) {
      if (isZooKeeperError(e, Err.NodeExists)) return false;
      throw e;
    }
  }
}
