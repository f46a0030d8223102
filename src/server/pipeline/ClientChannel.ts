// What the request pipeline needs of a client connection. Connection (TCP) implements it; the
// deterministic simulation implements it with in-memory clients.
import type { Codec } from '../../jute/codec.js';
import type { Identity } from '../../auth/AuthProviders.js';
import type { Watcher } from '../../tree/WatchManager.js';

export interface ClientChannel extends Watcher {
  readonly sessionId: bigint;
  readonly identities: Identity[];
  readonly closed: boolean;
  /** Address the client connects from ('' when not a network peer). */
  readonly remoteAddress: string;
  /** This channel's requests queued in the pipeline (cons shows it as `queued`). */
  inflight: number;
  /** Send a ReplyHeader (+ body) frame; returns its size in bytes. */
  reply<T>(xid: number, zxid: number, err: number, codec?: Codec<T>, body?: T): number;
  /** Account a finished request (cons: lop, lzxid, latencies). */
  noteResponse(op: string, zxid: number, latencyMs: number): void;
  pauseReading(reason: string): void;
  resumeReading(reason: string): void;
  close(): void;
  /** Close once what was already replied is on its way. */
  closeAfterFlush(): void;
}
