// Votes of ZooKeeper's fast leader election and the order in which they beat each other. Every
// 64-bit field is a bigint: observers propose Long.MIN_VALUE for leader, zxid and peerEpoch, and
// Apache compares those as signed 64-bit numbers.

export type ServerState = 'LOOKING' | 'FOLLOWING' | 'LEADING' | 'OBSERVING';

/** Wire codes of the notification's state field, in Apache's ServerState ordinal order. */
export const STATE_CODES: Readonly<Record<ServerState, number>> = { LOOKING: 0, FOLLOWING: 1, LEADING: 2, OBSERVING: 3 };

/** The state a wire code stands for, or null for a code Apache would skip. */
export function stateFromCode(code: number): ServerState | null {
  switch (code) {
    case 0:
      return 'LOOKING';
    case 1:
      return 'FOLLOWING';
    case 2:
      return 'LEADING';
    case 3:
      return 'OBSERVING';
    default:
      return null;
  }
}

export const LONG_MIN = -(1n << 63n);

/** Notification format version 3.8 writes (state..peerEpoch, version, config). */
export const NOTIFICATION_VERSION = 2;

export interface Vote {
  leader: bigint;
  zxid: bigint;
  electionEpoch: bigint;
  peerEpoch: bigint;
  /** State of the member that cast it; LOOKING for every vote made inside an election. */
  state: ServerState;
  /** Notification format version it arrived in; 0 for votes made locally (as Apache's Vote). */
  version: number;
}

export function makeVote(leader: bigint, zxid: bigint, electionEpoch: bigint, peerEpoch: bigint, state: ServerState = 'LOOKING', version = 0): Vote {
  return { leader, zxid, electionEpoch, peerEpoch, state, version };
}

/**
 * Apache's Vote.equals. A LOOKING vote on either side compares all four numbers. Two votes of
 * members outside an election compare only leader and peerEpoch, because their zxid and
 * electionEpoch legitimately differ (the zxid is the one seen when each voted); peerEpoch is left
 * out too when exactly one of them came in the pre-3.4.6 format (version 0), which reports a
 * different peerEpoch during rolling upgrades.
 */
export function votesEqual(a: Vote, b: Vote): boolean {
  if (a.state === 'LOOKING' || b.state === 'LOOKING') {
    return a.leader === b.leader && a.zxid === b.zxid && a.electionEpoch === b.electionEpoch && a.peerEpoch === b.peerEpoch;
  }
  if (a.version > 0 !== b.version > 0) return a.leader === b.leader;
  return a.leader === b.leader && a.peerEpoch === b.peerEpoch;
}

export interface Candidate {
  leader: bigint;
  zxid: bigint;
  peerEpoch: bigint;
}

/**
 * Apache's totalOrderPredicate: does the candidate `n` beat the current proposal `cur`? A candidate
 * of weight 0 (hierarchical quorums) never wins; otherwise the higher peerEpoch, then the higher
 * zxid, then the higher sid.
 */
export function totalOrderPredicate(weightOfNew: bigint, n: Candidate, cur: Candidate): boolean {
  if (weightOfNew === 0n) return false;
  if (n.peerEpoch !== cur.peerEpoch) return n.peerEpoch > cur.peerEpoch;
  if (n.zxid !== cur.zxid) return n.zxid > cur.zxid;
  return n.leader > cur.leader;
}

/** Long.toHexString: two's complement, lowercase, no leading zeros. */
export function longHex(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16);
}

/** Vote.toString: "(leader, zxid hex, peerEpoch hex)". */
export function voteString(v: Vote): string {
  return `(${v.leader}, ${longHex(v.zxid)}, ${longHex(v.peerEpoch)})`;
}
