// A seeded, deterministic simulation of a Zab ensemble built from the pure cores: voters and
// observers, TCP-like connections (per-connection FIFO, random delays, resets, partitions that stall
// traffic), disks that lose unsynced appends on a crash, restarts that reload from disk and re-sync.
// Election is a stub (the real one is elsewhere): a LOOKING voter that sees a quorum of LOOKING voters
// in its partition follows the one with the greatest (currentEpoch, last zxid, sid), as FLE would;
// anyone seeing a live leader in its partition follows it.
// Invariants are checked after every event (see check* below); a violation throws SimViolation.
import { ZabLeader, type LeaderOutput } from '../../../src/quorum/zab/ZabLeader.js';
import { ZabLearner, type LearnerOutput } from '../../../src/quorum/zab/ZabLearner.js';
import { epochOf, zxidHex, type Proposal, type ZabMessage } from '../../../src/quorum/zab/messages.js';

type P = Proposal<string>;
type Msg = ZabMessage<string, P[]>;

export class SimViolation extends Error {}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimConfig {
  voters: number;
  observers: number;
  /** Simulated milliseconds of faults and load, followed by a quiet period that must converge. */
  durationMs: number;
  quietMs: number;
  tickMs: number;
  initLimit: number;
  syncLimit: number;
  /** Mean ms between faults (crash, partition, connection reset). */
  faultEveryMs: number;
  writeEveryMs: number;
  /**
   * A deliberately broken harness, to show the checks catch what they claim to:
   * 'ackBeforeDurable' reports appends durable before they are (a lying fsync);
   * 'electLowest' elects the LOOKING voter with the smallest (currentEpoch, zxid, sid).
   */
  bug?: 'ackBeforeDurable' | 'electLowest';
}

export const DEFAULT_CONFIG: SimConfig = {
  voters: 3,
  observers: 0,
  durationMs: 4000,
  quietMs: 3000,
  tickMs: 100,
  initLimit: 5,
  syncLimit: 2,
  faultEveryMs: 250,
  writeEveryMs: 15,
};

interface Disk {
  acceptedEpoch: number;
  currentEpoch: number;
  snapshot: P[];
  /** The zxid the snapshot is named after: replay starts after it, whatever older txns the log holds. */
  snapZxid: bigint;
  log: P[];
  unsynced: P[];
}

interface Conn {
  id: number;
  learner: number;
  leader: number;
  broken: boolean;
  /** Delivery time of the last message each way, for FIFO order. */
  lastAt: Record<number, number>;
}

type Role =
  | { kind: 'down' }
  | { kind: 'looking' }
  | { kind: 'leading'; core: ZabLeader<string, P[]>; conns: Map<number, number> }
  | { kind: 'following'; core: ZabLearner<string, P[]>; leader: number; conn: number };

interface Node {
  sid: number;
  observer: boolean;
  disk: Disk;
  role: Role;
  /** Bumped at every crash and role change: stale callbacks check it. */
  gen: number;
  /** The in-memory database: txns applied, in order, and the zxid of the state it started from. */
  applied: P[];
  base: bigint;
  /** Length of `applied`'s prefix already checked against the global order. */
  verified: number;
  /** fsyncs complete in order: none before this time (a stalled disk pushes it out). */
  diskFreeAt: number;
}

export interface SimStats {
  events: number;
  established: number;
  commits: number;
  acked: number;
  crashes: number;
  partitions: number;
  resets: number;
  /** Learners the leader dropped for not acking a proposal within syncLimit. */
  ackTimeouts: number;
  syncs: Record<string, number>;
  finalZxid: string;
}

export class ZabSim {
  readonly rand: () => number;
  readonly cfg: SimConfig;
  private now = 0;
  private seq = 0;
  private queue: { at: number; seq: number; fn: () => void }[] = [];
  private readonly nodes = new Map<number, Node>();
  private readonly voterIds: number[] = [];
  private readonly observerIds: number[] = [];
  private readonly conns = new Map<number, Conn>();
  private nextConn = 1;
  /** Partition group per sid; traffic crosses groups never. */
  private group = new Map<number, number>();
  /** The one total order every committed history must be a prefix of. */
  private global: P[] = [];
  private readonly epochLeader = new Map<number, number>();
  private readonly acked = new Map<bigint, string>();
  private writeCounter = 0;
  private faultsOn = true;
  readonly stats: SimStats = { events: 0, established: 0, commits: 0, acked: 0, crashes: 0, partitions: 0, resets: 0, ackTimeouts: 0, syncs: {}, finalZxid: '' };
  private readonly trace: string[] = [];

  constructor(readonly seed: number, cfg: Partial<SimConfig> = {}) {
    this.cfg = { ...DEFAULT_CONFIG, ...cfg };
    this.rand = mulberry32(seed);
    for (let i = 1; i <= this.cfg.voters + this.cfg.observers; i++) {
      const observer = i > this.cfg.voters;
      (observer ? this.observerIds : this.voterIds).push(i);
      this.nodes.set(i, {
        sid: i,
        observer,
        disk: { acceptedEpoch: 0, currentEpoch: 0, snapshot: [], snapZxid: 0n, log: [], unsynced: [] },
        role: { kind: 'looking' },
        gen: 0,
        applied: [],
        base: 0n,
        verified: 0,
        diskFreeAt: 0,
      });
      this.group.set(i, 0);
    }
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }

  private at(delay: number, fn: () => void): void {
    const ev = { at: this.now + Math.max(0, delay), seq: this.seq++, fn };
    // Binary insertion keeps the queue ordered by (time, insertion order): fully deterministic.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid];
      if (q.at < ev.at || (q.at === ev.at && q.seq < ev.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, ev);
  }

  private log(s: string): void {
    this.trace.push(`${this.now} ${s}`);
    if (this.trace.length > (Number(process.env.ZAB_TRACE) || 60)) this.trace.shift();
  }

  private fail(msg: string): never {
    throw new SimViolation(`seed ${this.seed} at ${this.now}ms: ${msg}\nlast events:\n${this.trace.join('\n')}`);
  }

  // ---- running ----

  run(): SimStats {
    for (const n of this.nodes.values()) {
      this.at(this.int(0, this.cfg.tickMs / 2), () => this.halfTick(n));
    }
    this.scheduleFault();
    this.scheduleWrite();
    const end = this.cfg.durationMs + this.cfg.quietMs;
    this.at(this.cfg.durationMs, () => this.quiesce());
    while (this.queue.length > 0) {
      const ev = this.queue.shift()!;
      if (ev.at > end) break;
      this.now = ev.at;
      ev.fn();
      this.stats.events++;
      this.checkAll();
    }
    this.checkConverged();
    this.stats.finalZxid = zxidHex(this.global.length ? this.global[this.global.length - 1].zxid : 0n);
    return this.stats;
  }

  /** End of the fault period: heal everything, restart the dead, and let the ensemble settle. */
  private quiesce(): void {
    this.faultsOn = false;
    for (const s of this.group.keys()) this.group.set(s, 0);
    for (const n of this.nodes.values()) if (n.role.kind === 'down') this.restart(n);
  }

  private halfTick(n: Node): void {
    this.at(this.cfg.tickMs / 2, () => this.halfTick(n));
    const r = n.role;
    if (r.kind === 'leading') this.leaderOut(n, r.core.tick());
    else if (r.kind === 'following') this.learnerOut(n, r.core.tick());
    else if (r.kind === 'looking') this.elect(n);
  }

  private scheduleWrite(): void {
    this.at(this.int(1, 2 * this.cfg.writeEveryMs), () => {
      // Writes stop a second before the end so the last ones can drain.
      if (this.now > this.cfg.durationMs + this.cfg.quietMs - 1000) return;
      this.scheduleWrite();
      const leaders = [...this.nodes.values()].filter((n) => n.role.kind === 'leading' && n.role.core.isEstablished);
      if (leaders.length === 0) return;
      const n = leaders[this.int(0, leaders.length - 1)];
      const core = (n.role as { core: ZabLeader<string, P[]> }).core;
      const zxid = core.nextZxid();
      this.leaderOut(n, core.propose(zxid, `w${++this.writeCounter}`));
    });
  }

  private scheduleFault(): void {
    this.at(this.int(1, 2 * this.cfg.faultEveryMs), () => {
      if (!this.faultsOn) return;
      this.scheduleFault();
      const r = this.rand();
      const all = [...this.nodes.values()];
      if (r < 0.35) {
        const live = all.filter((n) => n.role.kind !== 'down');
        // Crash leaders more often: fail-over is the interesting path.
        const leaders = live.filter((n) => n.role.kind === 'leading');
        const pick = leaders.length && this.rand() < 0.5 ? leaders[0] : live[this.int(0, live.length - 1)];
        if (pick) this.crash(pick);
      } else if (r < 0.6) {
        this.stats.partitions++;
        for (const s of this.group.keys()) this.group.set(s, this.rand() < 0.5 ? 0 : 1);
        this.log(`partition ${[...this.group].map(([s, g]) => `${s}:${g}`).join(' ')}`);
        this.at(this.int(200, 1500), () => {
          for (const s of this.group.keys()) this.group.set(s, 0);
          this.log('heal');
        });
      } else if (r < 0.8) {
        const open = [...this.conns.values()].filter((c) => !c.broken);
        if (open.length) {
          this.stats.resets++;
          this.reset(open[this.int(0, open.length - 1)], 'reset');
        }
      } else if (r < 0.85) {
        // Power failure: every member at once; only what was fsynced survives.
        this.log('power failure');
        for (const n of all) if (n.role.kind !== 'down') this.crash(n);
      }
      // else: a quiet slot
    });
  }

  // ---- disks ----

  private load(n: Node): void {
    n.applied = [...n.disk.snapshot, ...n.disk.log.filter((p) => p.zxid > n.disk.snapZxid)];
    n.base = n.disk.snapZxid;
    n.verified = 0;
    for (let i = 1; i < n.applied.length; i++) {
      if (n.applied[i].zxid <= n.applied[i - 1].zxid) this.fail(`node ${n.sid} reloads an unordered history`);
    }
  }

  private lastZxid(n: Node): bigint {
    const last = n.applied.length ? n.applied[n.applied.length - 1].zxid : 0n;
    return last > n.base ? last : n.base;
  }

  private append(n: Node, p: P, durable: () => void): void {
    n.disk.unsynced.push(p);
    const gen = n.gen;
    if (this.cfg.bug === 'ackBeforeDurable') this.at(0, () => n.gen === gen && durable());
    // Now and then the disk stalls for longer than syncLimit: the leader's transaction timeout.
    const stall = this.rand() < 0.002 ? this.int(150, 400) : 0;
    const doneAt = Math.max(this.now + this.int(1, 8), n.diskFreeAt) + stall;
    n.diskFreeAt = doneAt;
    this.at(doneAt - this.now, () => {
      const i = n.disk.unsynced.indexOf(p);
      if (i < 0) return; // crashed, truncated or flushed meanwhile
      n.disk.log.push(...n.disk.unsynced.splice(0, i + 1));
      if (n.gen === gen && this.cfg.bug !== 'ackBeforeDurable') durable();
    });
  }

  // ---- roles ----

  private crash(n: Node): void {
    this.stats.crashes++;
    this.log(`crash ${n.sid} (${n.role.kind})`);
    this.dropConnections(n, this.rand() < 0.5);
    n.disk.unsynced = [];
    n.diskFreeAt = this.now;
    n.role = { kind: 'down' };
    n.gen++;
    n.applied = [];
    n.verified = 0;
    this.at(this.int(100, 1200), () => {
      if (n.role.kind === 'down' && this.faultsOn) this.restart(n);
    });
  }

  private restart(n: Node): void {
    this.log(`restart ${n.sid}`);
    n.gen++;
    this.load(n);
    n.role = { kind: 'looking' };
  }

  /** Back to LOOKING: what is logged is flushed and the database reloaded from the log (ZOOKEEPER-2845). */
  private becomeLooking(n: Node, why: string): void {
    this.log(`${n.sid} LOOKING: ${why}`);
    this.dropConnections(n, true);
    n.disk.log.push(...n.disk.unsynced);
    n.disk.unsynced = [];
    n.gen++;
    n.role = { kind: 'looking' };
    this.load(n);
  }

  private dropConnections(n: Node, notify: boolean): void {
    const r = n.role;
    const ids = r.kind === 'leading' ? [...r.conns.values()] : r.kind === 'following' ? [r.conn] : [];
    for (const id of ids) {
      const c = this.conns.get(id);
      if (c && !c.broken) {
        if (notify) this.reset(c, `closed by ${n.sid}`);
        else c.broken = true; // the machine vanished: peers find out by timeouts
      }
    }
  }

  private partitioned(a: number, b: number): boolean {
    return this.group.get(a) !== this.group.get(b);
  }

  private elect(n: Node): void {
    const reach = [...this.nodes.values()].filter((m) => m.role.kind !== 'down' && !this.partitioned(n.sid, m.sid));
    const leader = reach.find((m) => m.role.kind === 'leading' && !m.role.core.stopped && m !== n);
    if (leader) {
      this.follow(n, leader);
      return;
    }
    if (n.observer) return;
    const looking = reach.filter((m) => !m.observer && m.role.kind === 'looking');
    if (looking.length * 2 <= this.voterIds.length) return;
    const key = (m: Node): [number, bigint, number] => [m.disk.currentEpoch, this.lastZxid(m), m.sid];
    let best = looking[0];
    for (const m of looking) {
      const a = key(m);
      const b = key(best);
      const greater = a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2])));
      if (greater !== (this.cfg.bug === 'electLowest')) best = m;
    }
    if (best === n) this.lead(n);
  }

  private lead(n: Node): void {
    n.gen++;
    this.log(`${n.sid} LEADING from ${zxidHex(this.lastZxid(n))} epoch ${n.disk.currentEpoch}/${n.disk.acceptedEpoch}`);
    const commitLogCount = 3 + (this.seed % 7) * 5;
    const useTxnLog = this.seed % 3 !== 0;
    const core = new ZabLeader<string, P[]>({
      sid: n.sid,
      voters: this.voterIds,
      observers: this.observerIds,
      acceptedEpoch: n.disk.acceptedEpoch,
      currentEpoch: n.disk.currentEpoch,
      lastProcessedZxid: this.lastZxid(n),
      committedLog: n.applied,
      commitLogCount,
      // The log read from the last txn at or before z, as ZooKeeper's log iterator positions itself.
      txnLogFrom: useTxnLog
        ? (z) => {
            let i = n.applied.length - 1;
            while (i >= 0 && n.applied[i].zxid > z) i--;
            return n.applied.slice(Math.max(0, i));
          }
        : undefined,
      snapshot: () => n.applied.slice(),
      initLimit: this.cfg.initLimit,
      syncLimit: this.cfg.syncLimit,
      config: 'sim',
    });
    n.role = { kind: 'leading', core, conns: new Map() };
    this.leaderOut(n, core.start());
  }

  private follow(n: Node, leader: Node): void {
    n.gen++;
    const conn: Conn = { id: this.nextConn++, learner: n.sid, leader: leader.sid, broken: false, lastAt: {} };
    this.conns.set(conn.id, conn);
    const core = new ZabLearner<string, P[]>({
      sid: n.sid,
      type: n.observer ? 'observer' : 'follower',
      acceptedEpoch: n.disk.acceptedEpoch,
      currentEpoch: n.disk.currentEpoch,
      lastLoggedZxid: this.lastZxid(n),
      initLimit: this.cfg.initLimit,
      syncLimit: this.cfg.syncLimit,
    });
    n.role = { kind: 'following', core, leader: leader.sid, conn: conn.id };
    this.log(`${n.sid} FOLLOWING ${leader.sid} conn ${conn.id} from ${zxidHex(this.lastZxid(n))}`);
    this.learnerOut(n, core.start());
  }

  // ---- network ----

  private send(from: number, to: number, connId: number, msg: Msg): void {
    const c = this.conns.get(connId);
    if (!c || c.broken) return;
    if (this.partitioned(from, to)) {
      c.broken = true; // the link stalls: nothing more gets through; both ends time out
      return;
    }
    const at = Math.max(this.now + this.int(1, 12), c.lastAt[to] ?? 0);
    c.lastAt[to] = at;
    this.at(at - this.now, () => this.deliver(c, from, to, msg));
  }

  private deliver(c: Conn, from: number, to: number, msg: Msg): void {
    if (c.broken) return;
    const n = this.nodes.get(to)!;
    const r = n.role;
    if (r.kind === 'leading' && c.leader === to) {
      const known = r.conns.get(from);
      if (known !== c.id) {
        if (msg.type !== 'FOLLOWERINFO' && msg.type !== 'OBSERVERINFO') return;
        if (known !== undefined) {
          const old = this.conns.get(known);
          if (old) old.broken = true;
        }
        r.conns.set(from, c.id);
      }
      this.leaderOut(n, r.core.receive(from, msg));
    } else if (r.kind === 'following' && r.conn === c.id) {
      this.learnerOut(n, r.core.receive(msg));
    }
  }

  /** A connection reset: both ends learn of it after a short delay. */
  private reset(c: Conn, why: string): void {
    if (c.broken) return;
    c.broken = true;
    this.log(`conn ${c.id} ${c.learner}->${c.leader} ${why}`);
    this.at(this.int(1, 5), () => {
      const l = this.nodes.get(c.learner)!;
      if (l.role.kind === 'following' && l.role.conn === c.id) this.learnerOut(l, l.role.core.disconnected());
      const ld = this.nodes.get(c.leader)!;
      if (ld.role.kind === 'leading' && ld.role.conns.get(c.learner) === c.id) {
        ld.role.conns.delete(c.learner);
        this.leaderOut(ld, ld.role.core.disconnected(c.learner));
      }
    });
  }

  // ---- carrying out the cores' outputs ----

  private leaderOut(n: Node, outs: LeaderOutput<string, P[]>[]): void {
    const gen = n.gen;
    for (const o of outs) {
      if (n.gen !== gen || n.role.kind !== 'leading') return;
      const role = n.role;
      switch (o.kind) {
        case 'send': {
          const cid = role.conns.get(o.to);
          if (cid !== undefined) this.send(n.sid, o.to, cid, o.msg);
          break;
        }
        case 'persistAcceptedEpoch':
          n.disk.acceptedEpoch = o.epoch;
          break;
        case 'persistCurrentEpoch':
          n.disk.currentEpoch = o.epoch;
          break;
        case 'log':
          this.append(n, { zxid: o.zxid, txn: o.txn }, () => this.leaderOut(n, role.core.logged(o.zxid)));
          break;
        case 'commit':
          this.applyCommit(n, { zxid: o.zxid, txn: o.txn }, true);
          break;
        case 'established':
          this.onEstablished(n, o.epoch);
          break;
        case 'syncChosen':
          this.stats.syncs[o.decision.mode] = (this.stats.syncs[o.decision.mode] ?? 0) + 1;
          this.log(`${n.sid} syncs ${o.sid} by ${o.decision.mode} ${zxidHex(o.decision.zxid)}`);
          break;
        case 'disconnect': {
          const cid = role.conns.get(o.sid);
          role.conns.delete(o.sid);
          if (o.reason.includes('transaction timeout')) this.stats.ackTimeouts++;
          const c = cid !== undefined ? this.conns.get(cid) : undefined;
          if (c) this.reset(c, `leader: ${o.reason}`);
          break;
        }
        case 'stepDown':
          this.becomeLooking(n, o.reason);
          return;
        case 'touchSessions':
        case 'learnerRequest':
          break;
      }
    }
  }

  private learnerOut(n: Node, outs: LearnerOutput<string, P[]>[]): void {
    const gen = n.gen;
    for (const o of outs) {
      if (n.gen !== gen || n.role.kind !== 'following') return;
      const role = n.role;
      switch (o.kind) {
        case 'send':
          this.send(n.sid, role.leader, role.conn, o.msg);
          break;
        case 'persistAcceptedEpoch':
          n.disk.acceptedEpoch = o.epoch;
          break;
        case 'persistCurrentEpoch':
          n.disk.currentEpoch = o.epoch;
          break;
        case 'truncate': {
          if (n.disk.snapZxid > o.zxid) this.fail(`node ${n.sid} must truncate to ${zxidHex(o.zxid)} below its snapshot ${zxidHex(n.disk.snapZxid)} (ZOOKEEPER-1549)`);
          n.disk.log = n.disk.log.filter((p) => p.zxid <= o.zxid);
          n.disk.unsynced = n.disk.unsynced.filter((p) => p.zxid <= o.zxid);
          this.load(n);
          break;
        }
        case 'loadSnapshot':
          n.applied = o.snapshot.slice();
          n.base = o.zxid;
          n.verified = 0;
          break;
        case 'takeSnapshot':
          n.disk.snapshot = n.applied.slice();
          n.disk.snapZxid = o.zxid;
          break;
        case 'log':
          this.append(n, { zxid: o.zxid, txn: o.txn }, () => this.learnerOut(n, role.core.logged(o.zxid)));
          break;
        case 'commit':
          this.applyCommit(n, { zxid: o.zxid, txn: o.txn }, false);
          break;
        case 'serving':
        case 'leaderReply':
          break;
        case 'leaderLost':
          this.becomeLooking(n, o.reason);
          return;
      }
    }
  }

  // ---- invariants ----

  private applyCommit(n: Node, p: P, isLeader: boolean): void {
    const last = this.lastZxid(n);
    if (n.applied.length && p.zxid <= last) this.fail(`node ${n.sid} commits ${zxidHex(p.zxid)} after ${zxidHex(last)}`);
    n.applied.push(p);
    this.stats.commits++;
    if (isLeader) {
      // Committed at the leader = acknowledged to the client.
      this.acked.set(p.zxid, p.txn);
      this.stats.acked++;
      this.extendGlobal(n);
    } else {
      this.checkPrefix(n, 'follower commit');
    }
  }

  private onEstablished(n: Node, epoch: number): void {
    this.stats.established++;
    const prev = this.epochLeader.get(epoch);
    if (prev !== undefined && prev !== n.sid) this.fail(`two leaders established in epoch ${epoch}: ${prev} and ${n.sid}`);
    this.epochLeader.set(epoch, n.sid);
    this.log(`${n.sid} ESTABLISHED epoch ${epoch} with ${zxidHex(this.lastZxid(n))}`);
    // Everything the new leader has becomes committed; it must hold every txn committed before.
    this.extendGlobal(n);
  }

  /** `n`'s history becomes the committed order: the old order must be its prefix. */
  private extendGlobal(n: Node): void {
    const h = n.applied;
    if (h.length < this.global.length) {
      const missing = this.global[h.length];
      this.fail(`node ${n.sid} leads/commits without committed ${zxidHex(missing.zxid)} (acked: ${this.acked.has(missing.zxid)})`);
    }
    for (let i = n.verified; i < this.global.length; i++) {
      if (h[i].zxid !== this.global[i].zxid || h[i].txn !== this.global[i].txn) {
        this.fail(`node ${n.sid} diverges from the committed order at ${i}: ${zxidHex(h[i].zxid)}=${h[i].txn} vs ${zxidHex(this.global[i].zxid)}=${this.global[i].txn}`);
      }
    }
    for (let i = this.global.length; i < h.length; i++) this.global.push(h[i]);
    n.verified = h.length;
  }

  /** `n`'s committed history must be a prefix of the committed order. */
  private checkPrefix(n: Node, what: string): void {
    const h = n.applied;
    if (h.length > this.global.length) this.fail(`${what}: node ${n.sid} has ${h.length} txns, more than the ${this.global.length} committed`);
    for (let i = n.verified; i < h.length; i++) {
      if (h[i].zxid !== this.global[i].zxid || h[i].txn !== this.global[i].txn) {
        this.fail(`${what}: node ${n.sid} diverges at ${i}: ${zxidHex(h[i].zxid)}=${h[i].txn} vs ${zxidHex(this.global[i].zxid)}=${this.global[i].txn}`);
      }
    }
    n.verified = h.length;
  }

  private checkAll(): void {
    // Established leaders in the same epoch are caught at establishment; here: one epoch per live leader.
    const live = new Map<number, number>();
    for (const n of this.nodes.values()) {
      if (n.role.kind === 'leading' && n.role.core.isEstablished) {
        const e = n.role.core.newEpoch;
        if (live.has(e)) this.fail(`two live established leaders in epoch ${e}`);
        live.set(e, n.sid);
      }
    }
  }

  /** After the quiet period: one established leader, everyone synced to the same history, no acked txn lost. */
  private checkConverged(): void {
    const leaders = [...this.nodes.values()].filter((n) => n.role.kind === 'leading' && n.role.core.isEstablished);
    if (leaders.length !== 1) this.fail(`after ${this.cfg.quietMs}ms of quiet: ${leaders.length} established leaders`);
    const ld = leaders[0];
    const core = (ld.role as { core: ZabLeader<string, P[]> }).core;
    if (core.pendingProposals > 0) this.fail(`after the quiet period the leader still has ${core.pendingProposals} proposals pending`);
    for (const [zxid, txn] of this.acked) {
      const i = this.global.findIndex((p) => p.zxid === zxid);
      if (i < 0 || this.global[i].txn !== txn) this.fail(`acknowledged ${zxidHex(zxid)}=${txn} lost`);
    }
    for (const n of this.nodes.values()) {
      if (n === ld) continue;
      if (n.role.kind !== 'following' || n.role.core.state !== 'broadcast') {
        this.fail(`after the quiet period node ${n.sid} is ${n.role.kind}${n.role.kind === 'following' ? ' ' + n.role.core.state : ''}`);
      }
      this.checkPrefix(n, 'converged');
      if (n.applied.length !== ld.applied.length) this.fail(`node ${n.sid} has ${n.applied.length} txns, leader ${ld.applied.length}`);
    }
    if (epochOf(this.lastZxid(ld)) > core.newEpoch) this.fail('leader history beyond its epoch');
  }
}
