// Distributed counter: compare-and-set on the node's version. Each write appends a random token
// to a bounded list of recent writers' tokens after the value ("<value>#<tok> <tok> ..."), so that
// when a setData reply is lost with the connection the client can tell whether its own write landed
// (even if others wrote after it) instead of applying the increment twice.
import { randomBytes } from 'node:crypto';
import { Err } from '../protocol/constants.js';
import { isZooKeeperError } from '../client/errors.js';
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

export class DistributedCounter {
  constructor(readonly zk: ZooKeeper, readonly path: string) {}

  private async read(): Promise<{ value: number; version: number; tokens: string[] }> {
    for (;;) {
      try {
        const { data, stat } = await retrying(this.zk, () => this.zk.getData(this.path));
        const raw = data?.toString('utf8') ?? '';
        const hash = raw.indexOf('#');
        return { value: parse(data), version: stat.version, tokens: hash < 0 ? [] : raw.slice(hash + 1).split(' ') };
      } catch (e) {
        if (!isZooKeeperError(e, Err.NoNode)) throw e;
        const parent = this.path.slice(0, this.path.lastIndexOf('/')) || '/';
        await ensurePath(this.zk, parent);
        try {
          await retrying(this.zk, () => this.zk.create(this.path, '0'));
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
      const token = randomBytes(6).toString('hex');
      const payload = `${next}#${[token, ...cur.tokens.slice(0, RECENT_TOKENS - 1)].join(' ')}`;
      try {
        await this.zk.setData(this.path, payload, cur.version);
        return next;
      } catch (e) {
        if (isZooKeeperError(e, Err.BadVersion)) continue;
        if (!isConnectionProblem(e)) throw e;
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
