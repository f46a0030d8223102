// Who votes and which sets of voters form a quorum: Apache's QuorumMaj (plain majority of the
// participants) and QuorumHierarchical (weighted groups). Observers are members but never voters.

export interface QuorumVerifier {
  /** Sids of the voting members (participants). */
  readonly voters: ReadonlySet<bigint>;
  /** Weight of a sid; 0 means it may vote but can never be elected. */
  weight(sid: bigint): bigint;
  /** Whether these sids (voters only; others are ignored) form a quorum. */
  containsQuorum(sids: Iterable<bigint>): boolean;
}

export class QuorumMaj implements QuorumVerifier {
  readonly voters: ReadonlySet<bigint>;
  private readonly half: number;

  constructor(voters: Iterable<bigint>) {
    this.voters = new Set(voters);
    this.half = Math.floor(this.voters.size / 2);
  }

  // Apache's QuorumMaj gives every id weight 1, members or not; only membership checks elsewhere
  // keep strangers out.
  weight(_sid: bigint): bigint {
    return 1n;
  }

  containsQuorum(sids: Iterable<bigint>): boolean {
    let n = 0;
    for (const s of new Set(sids)) if (this.voters.has(s)) n++;
    return n > this.half;
  }
}

export interface HierarchicalGroup {
  id: bigint;
  members: bigint[];
}

/**
 * group.N=sid:sid:... and weight.sid=w. A set is a quorum when, in more than half of the groups
 * of non-zero weight, its weight in the group exceeds half the group's weight (integer halves,
 * as Apache computes them).
 */
export class QuorumHierarchical implements QuorumVerifier {
  readonly voters: ReadonlySet<bigint>;
  private readonly groupOf = new Map<bigint, bigint>();
  private readonly weights = new Map<bigint, bigint>();
  private readonly groupWeight = new Map<bigint, bigint>();
  private readonly numGroups: number;

  constructor(groups: HierarchicalGroup[], weights: Map<bigint, bigint>) {
    const voters = new Set<bigint>();
    for (const g of groups) {
      let total = 0n;
      for (const sid of g.members) {
        if (this.groupOf.has(sid)) throw new Error(`server ${sid} is in more than one group`);
        this.groupOf.set(sid, g.id);
        const w = weights.get(sid) ?? 1n;
        if (w < 0n) throw new Error(`weight of server ${sid} is negative`);
        this.weights.set(sid, w);
        total += w;
        voters.add(sid);
      }
      this.groupWeight.set(g.id, total);
    }
    this.voters = voters;
    this.numGroups = [...this.groupWeight.values()].filter((w) => w !== 0n).length;
  }

  weight(sid: bigint): bigint {
    return this.weights.get(sid) ?? 0n;
  }

  containsQuorum(sids: Iterable<bigint>): boolean {
    const perGroup = new Map<bigint, bigint>();
    for (const sid of new Set(sids)) {
      const g = this.groupOf.get(sid);
      if (g === undefined) continue;
      perGroup.set(g, (perGroup.get(g) ?? 0n) + this.weight(sid));
    }
    let majorities = 0;
    for (const [g, w] of perGroup) if (w > this.groupWeight.get(g)! / 2n) majorities++;
    return majorities > Math.floor(this.numGroups / 2);
  }
}

/**
 * `v.containsQuorum` for sets of numeric sids, as the Zab leader asks it after every ACK: for a
 * plain majority without building bigint sids or sets, otherwise through the verifier.
 */
export function numericQuorumCheck(v: QuorumVerifier): (sids: ReadonlySet<number>) => boolean {
  if (v instanceof QuorumMaj) {
    const voters = new Set([...v.voters].map(Number));
    const half = Math.floor(voters.size / 2);
    return (sids) => {
      let n = 0;
      for (const s of sids) if (voters.has(s)) n++;
      return n > half;
    };
  }
  return (sids) => v.containsQuorum([...sids].map(BigInt));
}
