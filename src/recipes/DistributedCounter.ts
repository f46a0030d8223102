// Distributed counter: compare-and-set on the node's version. Each write appends a random token
// to a bounded list of recent writers' tokens after the value ("<value>#<tok> <tok> ..."), so that
// when a setData reply is lost with the connection the client can tell whether its own write landed
// (even if others wrote after it) instead of applying the increment twice.
// With `format: 'kazoo'` the node holds only the decimal text of the value, as kazoo's Counter
// writes it, so Python services share the counter; that format has no room for tokens, so an
// increment whose reply was lost is reported with its ConnectionLoss instead of being retried.
import { randomBytes } from 'node:crypto';
import { Err } from '../protocol/constants.js';
import { isZooKeeperError, ZooKeeperError } from '../client/errors.js';
import type { ZooKeeper } from '../client/ZooKeeper.js';
import { ensurePath, isConnectionProblem, retrying } from './support.js';

function parse(data: Buffer | null): number {
  if (!data || data.length === 0) return 0;
  const s = data.toString('utf8');
  const hash = s.indexOf('#');
  const n = Number(hash < 0 ? s : s.slice(0, hash));
  return Number.isFinite(n) ? n : 0;
}

/** How many recent writers' tokens the node keeps (bounds the node size to well under 1 KB). */
const RECENT_TOKENS = 64;

export type CounterFormat = 'tokens' | 'kazoo';

export class DistributedCounter {
  readonly format: CounterFormat;

  constructor(readonly zk: ZooKeeper, readonly path: string, options: { format?: CounterFormat } = {}) {
    this.format = options.format ?? 'tokens';
  }

  private decode(data: Buffer | null): number {
    if (this.format === 'tokens') return parse(data);
    const text = data?.toString('ascii') ?? '';
    if (text === '') return 0;
    if (!/^-?\d+$/.test(text)) throw new ZooKeeperError(Err.BadArguments, this.path, `${this.path} holds ${JSON.stringify(text.slice(0, 40))}, not a decimal integer`);
    return Number(text);
  }

  private async read(): Promise<{ value: number; version: number; tokens: string[] }> {
    for (;;) {
      try {
        const { data, stat } = await retrying(this.zk, () => this.zk.getData(this.path));
        const raw = data?.toString('utf8') ?? '';
        const hash = raw.indexOf('#');
        const tokens = this.format === 'tokens' && hash >= 0 ? raw.slice(hash + 1).split(' ') : [];
        return { value: this.decode(data), version: stat.version, tokens };
      } catch (e) {
        if (!isZooKeeperError(e, Err.NoNode)) throw e;
        const parent = this.path.slice(0, this.path.lastIndexOf('/')) || '/';
        await ensurePath(this.zk, parent);
        try {
          await retrying(this.zk, () => this.zk.create(this.path, '0')); // '0' is both formats' zero
        } catch (e2) {
          if (!isZooKeeperError(e2, Err.NodeExists)) throw e2;
        }
      }
    }
  }

  async get(): Promise<number> {
    return (await this.read()).value;
  }

  /** Atomically adds `delta`; returns the new value. */
  async add(delta: number): Promise<number> {
    for (;;) {
      const cur = await this.read();
      const next = cur.value + delta;
      if (this.format === 'kazoo' && !Number.isSafeInteger(next)) throw new RangeError(`kazoo counters hold integers; ${next} is not one`);
      const token = randomBytes(6).toString('hex');
      const payload = this.format === 'kazoo' ? String(next) : `${next}#${[token, ...cur.tokens.slice(0, RECENT_TOKENS - 1)].join(' ')}`;
      try {
        await this.zk.setData(this.path, payload, cur.version);
        return next;
      } catch (e) {
        if (isZooKeeperError(e, Err.BadVersion)) continue;
        if (!isConnectionProblem(e) || this.format === 'kazoo') throw e;
        await this.zk.waitConnected();
        // The lost setData may still be in flight: sync orders our read after it.
        await retrying(this.zk, () => this.zk.sync(this.path));
        const after = await this.read();
        if (after.tokens.includes(token)) return next; // our write landed (maybe followed by others)
        continue; // it did not: try again
      }
    }
  }

  increment(): Promise<number> {
    return this.add(1);
  }
  decrement(): Promise<number> {
    return this.add(-1);
  }
}
