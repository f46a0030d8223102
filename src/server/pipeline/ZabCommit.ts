// What LeaderCommit and FollowerCommit share: carrying a Zab core's outputs out, strictly in order.
// A storage output may be asynchronous (an epoch file written and fsynced, a log truncated); the
// outputs after it wait for it, so "persist acceptedEpoch, then send LEADERINFO" holds whatever the
// storage's latency.
import type { Txn } from '../../protocol/txn.js';
import type { ZabMessage } from '../../quorum/zab/messages.js';

/** Carries packets to peers; the quorum connection layer implements it. */
export interface ZabTransport<S> {
  send(to: number, msg: ZabMessage<Txn, S>): void;
  disconnect(sid: number, reason: string): void;
}

/** The acceptedEpoch and currentEpoch files: durable when the returned promise settles. */
export interface EpochStore {
  setAcceptedEpoch(epoch: number): void | Promise<void>;
  setCurrentEpoch(epoch: number): void | Promise<void>;
}

/**
 * Carries out a core's outputs in order. A batch with nothing ahead of it runs at once, in the
 * caller's turn (a leader carries several batches per write: the proposal, each ACK, each fsync,
 * and a promise and a microtask for each cost it CPU); from the first output that returns a
 * promise on, the rest of its batch, and every batch after, waits on a chain until it settles.
 * A batch handed in while one is being carried out (an output re-entering the stage) runs after it.
 */
export class OrderedOutputs<T> {
  private chain: Promise<void> = Promise.resolve();
  private failed = false;
  /** Batches on the chain that have not finished: later batches queue behind them. */
  private behind = 0;
  /** A batch is being carried out synchronously (and so a batch handed in now must wait). */
  private running = false;

  constructor(
    private readonly exec: (output: T) => void | Promise<void>,
    private readonly onError: (err: Error) => void,
  ) {}

  /**
   * Batches handed in while one is carried out synchronously (a leader's forwarded write re-enters
   * with its proposal for every write): they run right after it in the same turn, in order, rather
   * than on the chain, which would cost each a promise, a closure and a microtask.
   */
  private readonly reentered: (readonly T[])[] = [];

  /** Carries out `outputs` one after the other, after every output handed in before. */
  run(outputs: readonly T[]): void {
    if (outputs.length === 0 || this.failed) return;
    if (this.running) {
      this.reentered.push(outputs);
      return;
    }
    if (this.behind > 0) {
      this.enqueue(outputs, 0, null);
      return;
    }
    this.running = true;
    try {
      this.carry(outputs);
      for (let i = 0; i < this.reentered.length; i++) {
        // Once an output waits on a promise, every later batch goes on the chain behind it.
        if (this.behind > 0) this.enqueue(this.reentered[i]!, 0, null);
        else this.carry(this.reentered[i]!);
      }
    } catch (err) {
      this.fail(err);
    } finally {
      this.reentered.length = 0;
      this.running = false;
    }
  }

  /** One batch, synchronously until an output returns a promise; the rest then goes on the chain. */
  private carry(outputs: readonly T[]): void {
    for (let i = 0; i < outputs.length; i++) {
      if (this.failed) return;
      const r = this.exec(outputs[i]!);
      if (r) {
        this.enqueue(outputs, i + 1, r);
        return;
      }
    }
  }

  /** Outputs from `from` on, on the chain, after `first` (an output's promise) when given. */
  private enqueue(outputs: readonly T[], from: number, first: Promise<void> | null): void {
    this.behind++;
    // Handled here at once; its outcome is read again when the chain reaches it.
    first?.catch(() => {});
    this.chain = this.chain.then(async () => {
      try {
        if (first) await first;
        for (let i = from; i < outputs.length; i++) {
          if (this.failed) return;
          const r = this.exec(outputs[i]!);
          if (r) await r;
        }
      } catch (err) {
        this.fail(err);
      } finally {
        this.behind--;
      }
    });
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.onError(err instanceof Error ? err : new Error(String(err)));
  }

  /** Resolves once every output handed in so far has been carried out. */
  idle(): Promise<void> {
    return this.chain;
  }
}

export function zxidOf(txn: Txn): bigint {
  return BigInt(txn.hdr.zxid);
}
