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

export class OrderedOutputs {
  private chain: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(private readonly onError: (err: Error) => void) {}

  /** Runs `steps` one after the other, after every step queued before; a step may return a promise. */
  run(steps: (() => void | Promise<void>)[]): void {
    if (steps.length === 0 || this.failed) return;
    this.chain = this.chain.then(async () => {
      for (const step of steps) {
        if (this.failed) return;
        try {
          const r = step();
          if (r) await r;
        } catch (err) {
          this.failed = true;
          this.onError(err instanceof Error ? err : new Error(String(err)));
          return;
        }
      }
    });
  }

  /** Resolves once every step queued so far has run. */
  idle(): Promise<void> {
    return this.chain;
  }
}

export function zxidOf(txn: Txn): bigint {
  return BigInt(txn.hdr.zxid);
}
