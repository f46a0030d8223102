// How the leader brings one learner up to date, decided as Apache ZooKeeper 3.8's
// LearnerHandler.syncFollower decides it: DIFF (send the missing committed proposals), TRUNC (the learner
// has txns the leader never had in that epoch: cut them off, then DIFF), or SNAP (send the whole state).
import { counterOf, epochOf, zxidHex, type Proposal } from './messages.js';

export interface SyncInputs<T> {
  /** The learner's last logged zxid (ACKEPOCH zxid). */
  peerLastZxid: bigint;
  /** The leader's last processed zxid (its whole history, committed or about to be). */
  lastProcessedZxid: bigint;
  /** The leader's in-memory committed log (ZooKeeper keeps the last commitLogCount proposals), ascending. */
  committedLog: readonly Proposal<T>[];
  /**
   * The leader's txn log read from `fromZxid` (ascending, may start before it), or null when syncing
   * from the log is disabled or the log files to read exceed the size limit (ZooKeeper: more than
   * snapshotSizeFactor × the newest snapshot's size).
   */
  txnLogFrom?: (fromZxid: bigint) => Iterable<Proposal<T>> | null;
  /** zookeeper.forceSnapshotSync (testing only). */
  forceSnapshotSync?: boolean;
}

export type SyncDecision<T> =
  | { mode: 'DIFF'; zxid: bigint; proposals: Proposal<T>[]; reason: string }
  | { mode: 'TRUNC'; zxid: bigint; proposals: Proposal<T>[]; reason: string }
  | { mode: 'SNAP'; zxid: bigint; proposals: []; reason: string };

interface Queued<T> {
  /** DIFF or TRUNC with its zxid, once chosen. */
  op: { mode: 'DIFF' | 'TRUNC'; zxid: bigint } | null;
  proposals: Proposal<T>[];
  /** Highest zxid queued so far (starts at peerLastZxid). */
  queuedZxid: bigint;
  /** Set when the walk found the learner's history forks from ours in another epoch: only SNAP helps. */
  epochMismatch: boolean;
}

function isNewEpochZxid(zxid: bigint): boolean {
  return counterOf(zxid) === 0;
}

/**
 * Walks `source` (ascending) the way ZooKeeper's queueCommittedProposals does: skip what the peer has,
 * choose DIFF or TRUNC at the first proposal at or after the peer's last zxid, queue the rest up to
 * `maxZxid`. `diffZxid` is the zxid a DIFF carries (the leader's maxCommittedLog).
 */
function walk<T>(source: Iterable<Proposal<T>>, peerLastZxid: bigint, maxZxid: bigint | null, diffZxid: bigint, q: Queued<T>): void {
  const peerNewEpoch = isNewEpochZxid(peerLastZxid);
  let prevZxid = -1n;
  for (const p of source) {
    if (maxZxid !== null && p.zxid > maxZxid) break;
    if (p.zxid < peerLastZxid) {
      prevZxid = p.zxid;
      continue;
    }
    if (q.op === null) {
      if (p.zxid === peerLastZxid) {
        q.op = { mode: 'DIFF', zxid: diffZxid };
        continue;
      }
      if (peerNewEpoch) {
        q.op = { mode: 'DIFF', zxid: diffZxid };
      } else {
        // The peer's last zxid is unknown to us: it logged txns we never had.
        if (epochOf(p.zxid) !== epochOf(peerLastZxid)) {
          q.epochMismatch = true;
          return;
        }
        q.op = { mode: 'TRUNC', zxid: prevZxid };
      }
    }
    if (p.zxid <= q.queuedZxid) continue;
    q.proposals.push(p);
    q.queuedZxid = p.zxid;
  }
  if (q.op === null && peerNewEpoch) q.op = { mode: 'DIFF', zxid: diffZxid };
}

export function chooseSync<T>(inp: SyncInputs<T>): SyncDecision<T> {
  const { peerLastZxid, lastProcessedZxid, committedLog } = inp;
  const snap = (reason: string): SyncDecision<T> => ({ mode: 'SNAP', zxid: lastProcessedZxid, proposals: [], reason });
  if (inp.forceSnapshotSync) return snap('forceSnapshotSync');

  let minCommittedLog = lastProcessedZxid;
  let maxCommittedLog = lastProcessedZxid;
  if (committedLog.length > 0) {
    minCommittedLog = committedLog[0].zxid;
    maxCommittedLog = committedLog[committedLog.length - 1].zxid;
  }
  const window = `minCommittedLog=${zxidHex(minCommittedLog)} maxCommittedLog=${zxidHex(maxCommittedLog)} peerLastZxid=${zxidHex(peerLastZxid)}`;

  if (peerLastZxid === lastProcessedZxid) {
    return { mode: 'DIFF', zxid: peerLastZxid, proposals: [], reason: `peer is in sync (${window})` };
  }
  if (peerLastZxid > maxCommittedLog && !isNewEpochZxid(peerLastZxid)) {
    return { mode: 'TRUNC', zxid: maxCommittedLog, proposals: [], reason: `peer is ahead of the committed log (${window})` };
  }
  const q: Queued<T> = { op: null, proposals: [], queuedZxid: peerLastZxid, epochMismatch: false };
  if (minCommittedLog <= peerLastZxid && peerLastZxid <= maxCommittedLog) {
    walk(committedLog, peerLastZxid, null, maxCommittedLog, q);
    if (q.op === null || q.epochMismatch) return snap(`peer's history forks from ours in another epoch (${window})`);
    return { mode: q.op.mode, zxid: q.op.zxid, proposals: q.proposals, reason: `using the committed log (${window})` };
  }
  if (peerLastZxid < minCommittedLog && inp.txnLogFrom) {
    const log = inp.txnLogFrom(peerLastZxid);
    if (log === null) return snap(`txn log sync not possible (disabled or over the size limit) (${window})`);
    let first = true;
    const iter = log[Symbol.iterator]();
    // The first txn found must not be beyond the peer's last zxid, or there is a gap before it.
    const head = iter.next();
    if (head.done || head.value.zxid > peerLastZxid) {
      return snap(`txn log does not reach back to the peer's last zxid (${window})`);
    }
    const fromLog: Iterable<Proposal<T>> = {
      [Symbol.iterator]: () => ({
        next: () => {
          if (first) {
            first = false;
            return head;
          }
          return iter.next();
        },
      }),
    };
    walk(fromLog, peerLastZxid, minCommittedLog, maxCommittedLog, q);
    if (q.op === null || q.epochMismatch) return snap(`peer's history forks from ours in another epoch (${window})`);
    if (q.queuedZxid < minCommittedLog) return snap(`gap between the txn log and the committed log (${window})`);
    walk(committedLog, peerLastZxid, null, maxCommittedLog, q);
    return { mode: q.op.mode, zxid: q.op.zxid, proposals: q.proposals, reason: `using the txn log and the committed log (${window})` };
  }
  return snap(`peer is behind the committed log and the txn log cannot be used (${window})`);
}
