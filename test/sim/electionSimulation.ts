// Seeded simulation of fast leader election among 3 or 5 voters plus observers, in virtual time:
// a network that delays, drops, duplicates, reorders and partitions; crashes and restarts; and a
// small stand-in for what Zab does after an election (followers connect to the leader, a leader
// without a quorum by initLimit or later gives up, epochs advance, the leader commits txns), so
// members that decided on a leader that cannot lead go back to LOOKING as ZooKeeper's do. The
// cores see only their inputs; the checks below read ground truth the cores cannot see.
import { FastLeaderElection, type ElectionOutput, type LocalHistory, type Notification } from '../../src/quorum/election/FastLeaderElection.js';
import { QuorumMaj } from '../../src/quorum/election/QuorumVerifier.js';
import { ElectionConnections, type ConnectionOutput } from '../../src/quorum/election/ElectionConnections.js';
import type { Candidate, ServerState } from '../../src/quorum/election/Vote.js';
import { SimScheduler, seededRandom } from './SimRuntime.js';
import type { TimerHandle } from '../../src/runtime/Runtime.js';

export interface ElectionSimOptions {
  seed: number;
  voters: number;
  observers: number;
  /** Everyone starts within 50 ms over a good network, nothing fails: the round must agree. */
  clean: boolean;
  /** Return the event log itself (for reading a failing seed), not only its hash. */
  keepLog?: boolean;
  /**
   * 'links': messages travel on abstract per-pair links. 'connections': each member runs the
   * ElectionConnections core over simulated TCP connections (dials, initial messages, FIFO streams
   * that break on loss, partitions and crashes).
   */
  network?: 'links' | 'connections';
}

export interface ElectionSimResult {
  seed: number;
  options: ElectionSimOptions;
  violations: string[];
  /** Virtual ms from the network healing (clean: from the start) until one leader led everyone live. */
  settleMs: number | null;
  decisions: number;
  /** Rounds in which members decided different leaders (resolved by the Zab stand-in). */
  splitRounds: number;
  messages: number;
  /** Hash of every event, to show a seed replays exactly. */
  trace: string;
  log?: string[];
}

const START = 1_700_000_000_000;
const INIT_LIMIT_MS = 2000;
const CHECK_MS = 500;
const OBSERVER_ELECTION_DELAY_MS = 200;
/** After healing, every live member must be led within this: one full 60 s backoff plus rounds. */
export const SETTLE_BOUND_MS = 90_000;

type Role = 'participant' | 'observer';

interface Member {
  sid: number;
  role: Role;
  alive: boolean;
  incarnation: number;
  owner: number;
  core: FastLeaderElection;
  cnx: ElectionConnections<Notification>;
  history: LocalHistory;
  electionTimer: TimerHandle | null;
  /** Zab stand-in. */
  zab: { kind: 'none' } | { kind: 'leading'; established: boolean; epoch: bigint; followers: Set<number> } | { kind: 'learning'; leader: number; connected: boolean };
  zabTimer: TimerHandle | null;
}

/** (peerEpoch, zxid, sid) compared as a tuple: written apart from the core's rule so it checks it. */
function cmp(a: Candidate, b: Candidate): number {
  for (const [x, y] of [
    [a.peerEpoch, b.peerEpoch],
    [a.zxid, b.zxid],
    [a.leader, b.leader],
  ] as const) {
    if (x !== y) return x > y ? 1 : -1;
  }
  return 0;
}

export function runElectionSim(opts: ElectionSimOptions): ElectionSimResult {
  const rnd = seededRandom(opts.seed);
  const rint = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const sched = new SimScheduler(START);
  const violations: string[] = [];
  const trace: string[] = [];
  let ownerSeq = 1;
  let messages = 0;
  let decisions = 0;
  const decided: Array<{ sid: number; state: ServerState; leader: bigint; round: bigint }> = [];

  const voterIds = Array.from({ length: opts.voters }, (_, i) => i + 1);
  const observerIds = Array.from({ length: opts.observers }, (_, i) => opts.voters + i + 1);
  const verifier = new QuorumMaj(voterIds.map(BigInt));
  const members = new Map<number, Member>();

  // Network state. `good` after healing: short delays, nothing lost.
  let good = opts.clean;
  let pDrop = 0;
  let pDup = 0;
  let maxDelay = 50;
  const blocked = new Set<string>();
  const cut = (a: number, b: number) => blocked.has(a < b ? `${a}-${b}` : `${b}-${a}`);
  const reachable = (a: number, b: number) => members.get(a)!.alive && members.get(b)!.alive && !cut(a, b);

  // Ground truth for the order check: each member's history whenever it cast a vote in a round.
  const roundHistories = new Map<string, LocalHistory[]>();
  const noteVote = (m: Member, n: { state: ServerState; electionEpoch: bigint }) => {
    if (n.state !== 'LOOKING') return;
    const key = `${m.sid}:${n.electionEpoch}`;
    const list = roundHistories.get(key) ?? [];
    if (!list.some((h) => h.lastLoggedZxid === m.history.lastLoggedZxid && h.currentEpoch === m.history.currentEpoch)) list.push({ ...m.history });
    roundHistories.set(key, list);
  };
  const establishedEpochs = new Map<bigint, number>();

  const newCore = (sid: number, role: Role) => new FastLeaderElection({ myId: BigInt(sid), learnerType: role, verifier });

  for (const sid of [...voterIds, ...observerIds]) {
    const epoch = BigInt(rint(0, 2));
    const role: Role = sid > opts.voters ? 'observer' : 'participant';
    members.set(sid, {
      sid,
      role,
      alive: true,
      incarnation: 1,
      owner: ownerSeq++,
      core: newCore(sid, role),
      cnx: new ElectionConnections<Notification>(BigInt(sid)),
      // The last zxid may be of an older epoch than currentEpoch (a member that took NEWLEADER
      // and logged nothing since), so the order on peerEpoch first is exercised.
      history: { currentEpoch: epoch, lastLoggedZxid: (BigInt(rint(0, Number(epoch))) << 32n) + BigInt(rint(0, 4)) },
      electionTimer: null,
      zab: { kind: 'none' },
      zabTimer: null,
    });
  }

  const after = (m: Member, ms: number, fn: () => void): TimerHandle => {
    const ev = sched.runtime(m.owner, rnd).scheduler.after(ms, fn);
    return ev;
  };

  function deliver(from: number, to: number, n: Notification): void {
    const m = members.get(to)!;
    if (!m.alive) return;
    trace.push(`${sched.now() - START} ${from}>${to} ${n.state[0]}${n.leader}/${n.zxid}/${n.electionEpoch}/${n.peerEpoch}`);
    apply(m, m.core.receive(BigInt(from), n));
  }

  // Each directed link behaves like QuorumCnxManager's sender: one message on the wire at a time
  // (TCP keeps order), and a send queue of capacity 1 whose newer message replaces an unsent one.
  // Loss stands for a broken connection; a duplicate for the re-send of the last message that a
  // fresh connection starts with. Messages on different links overtake each other freely.
  const links = new Map<string, { busy: boolean; queued: Notification | null }>();

  function transmit(from: Member, to: number, n: Notification): void {
    const key = `${from.sid}>${to}`;
    const link = links.get(key)!;
    link.busy = true;
    const delay = rint(1, good ? 50 : maxDelay);
    sched.schedule(delay, () => {
      // Checked at arrival: a partition or crash in between loses it too.
      if ((good || rnd() >= pDrop) && reachable(from.sid, to)) {
        deliver(from.sid, to, n);
        if (!good && rnd() < pDup && reachable(from.sid, to)) deliver(from.sid, to, n);
      }
      link.busy = false;
      const next = link.queued;
      link.queued = null;
      if (next) transmit(from, to, next);
    });
  }

  function send(from: Member, to: number, n: Notification): void {
    messages++;
    if (opts.network === 'connections') return handleCnx(from, from.cnx.send(BigInt(to), n));
    if (to === from.sid) {
      // QuorumCnxManager loops a member's own messages back without a socket.
      sched.schedule(0, () => deliver(from.sid, to, n), from.owner);
      return;
    }
    if (!members.has(to)) return;
    const key = `${from.sid}>${to}`;
    let link = links.get(key);
    if (!link) links.set(key, (link = { busy: false, queued: null }));
    if (link.busy) link.queued = n;
    else transmit(from, to, n);
  }

  // --- simulated TCP for the 'connections' network ---
  interface Sock {
    id: number;
    ends: [number, number];
    broken: boolean;
    /** Per direction (index of the sender in ends): when its last byte arrives, for FIFO. */
    tail: [number, number];
  }
  const socks = new Map<number, Sock>();
  let sockSeq = 1;

  /** Schedule something to arrive at the other end after everything written before it. */
  function stream(sock: Sock, fromSid: number, fn: () => void): void {
    const dir = sock.ends[0] === fromSid ? 0 : 1;
    const at = Math.max(sched.now() + rint(1, good ? 50 : maxDelay), sock.tail[dir]);
    sock.tail[dir] = at;
    sched.schedule(at - sched.now(), () => {
      if (sock.broken) return;
      if (!reachable(sock.ends[0], sock.ends[1])) return breakSock(sock);
      fn();
    });
  }

  /** Loss, partition or crash: data in flight is gone and both live ends learn the connection died. */
  function breakSock(sock: Sock): void {
    if (sock.broken) return;
    sock.broken = true;
    for (const sid of sock.ends) {
      const m = members.get(sid)!;
      if (m.alive) handleCnx(m, m.cnx.closed(sock.id));
    }
  }

  function breakBetween(a: number, b: number): void {
    for (const sock of socks.values()) if (!sock.broken && sock.ends.includes(a) && (b < 0 || sock.ends.includes(b))) breakSock(sock);
  }

  function handleCnx(m: Member, outs: ConnectionOutput<Notification>[]): void {
    for (const o of outs) {
      switch (o.type) {
        case 'dial': {
          const to = Number(o.sid);
          sched.schedule(rint(1, good ? 50 : maxDelay), () => {
            if (!m.alive) return;
            // As ElectionTransport: a refused dial and a lost connection tell the core the peer is
            // unreachable (it may decide without waiting for that vote); a dial that connects, that
            // it is back.
            if (!reachable(m.sid, to) || !members.get(to)!.alive) {
              handleCnx(m, m.cnx.dialFailed(o.sid));
              return apply(m, m.core.peerReachable(o.sid, false));
            }
            const sock: Sock = { id: sockSeq++, ends: [m.sid, to], broken: false, tail: [0, 0] };
            socks.set(sock.id, sock);
            apply(m, m.core.peerReachable(o.sid, true));
            handleCnx(m, m.cnx.dialed(o.sid, sock.id));
          }, m.owner);
          break;
        }
        case 'writeInitial': {
          const sock = socks.get(o.conn)!;
          const peer = members.get(sock.ends[1])!;
          stream(sock, m.sid, () => handleCnx(peer, peer.cnx.initialReceived(sock.id, BigInt(m.sid))));
          break;
        }
        case 'write': {
          const sock = socks.get(o.conn)!;
          const peer = members.get(sock.ends[0] === m.sid ? sock.ends[1] : sock.ends[0])!;
          if (!good && rnd() < pDrop) {
            // A lost message is a connection that broke under it.
            sched.schedule(rint(1, maxDelay), () => breakSock(sock));
          } else {
            stream(sock, m.sid, () => handleCnx(peer, peer.cnx.received(sock.id, o.message)));
          }
          sched.schedule(0, () => handleCnx(m, m.cnx.writeDone(o.conn)), m.owner);
          break;
        }
        case 'close': {
          const sock = socks.get(o.conn)!;
          const peer = members.get(sock.ends[0] === m.sid ? sock.ends[1] : sock.ends[0])!;
          sched.schedule(0, () => handleCnx(m, m.cnx.closed(o.conn)), m.owner);
          stream(sock, m.sid, () => {
            sock.broken = true;
            handleCnx(peer, peer.cnx.closed(sock.id));
          });
          break;
        }
        case 'deliver':
          if (Number(o.from) === m.sid) sched.schedule(0, () => deliver(m.sid, m.sid, o.message), m.owner);
          else deliver(Number(o.from), m.sid, o.message);
          break;
        case 'lost':
          apply(m, m.core.peerReachable(o.sid, false));
          break;
        default:
          break;
      }
    }
  }

  function apply(m: Member, outs: ElectionOutput[]): void {
    for (const o of outs) {
      switch (o.type) {
        case 'send':
          noteVote(m, o.notification);
          checkLookingVote(m, Number(o.to), o.notification);
          send(m, Number(o.to), { ...o.notification, version: 2, configVersion: 0n });
          break;
        case 'setTimer': {
          m.electionTimer?.cancel();
          const token = o.token;
          m.electionTimer = after(m, o.delayMs, () => {
            m.electionTimer = null;
            // haveDelivered is sometimes false (queues full): the core asks to reconnect instead.
            const delivered = opts.network === 'connections' ? m.cnx.haveDelivered() : good || rnd() < 0.8;
            apply(m, m.core.timeout(token, delivered));
          });
          break;
        }
        case 'connectAll':
          if (opts.network === 'connections') handleCnx(m, m.cnx.connectAll());
          break;
        case 'cancelTimer':
          m.electionTimer?.cancel();
          m.electionTimer = null;
          break;
        case 'decided':
          decisions++;
          decided.push({ sid: m.sid, state: o.state, leader: o.vote.leader, round: o.vote.electionEpoch });
          trace.push(`${sched.now() - START} decide ${m.sid} ${o.state} ${o.vote.leader} r${o.vote.electionEpoch}`);
          checkDecision(m, o);
          onDecided(m, o.state, Number(o.vote.leader));
          break;
        default:
          break;
      }
    }
  }

  /**
   * A participant's LOOKING vote to a voter is never for a candidate worse than its own history
   * (it starts with itself and moves only to better votes). Checked where the vote is sent, so the
   * decision check below can accept established answers, which carry another member's election.
   * (Non-voters are answered with the previous election's vote, as in Apache: not a proposal.)
   */
  function checkLookingVote(m: Member, to: number, n: Pick<Notification, 'state' | 'leader' | 'zxid' | 'peerEpoch' | 'electionEpoch'>): void {
    if (m.role !== 'participant' || n.state !== 'LOOKING' || !verifier.voters.has(BigInt(to)) || m.history.lastLoggedZxid === -1n) return;
    const own: Candidate = { leader: BigInt(m.sid), zxid: m.history.lastLoggedZxid, peerEpoch: m.history.currentEpoch };
    if (cmp({ leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch }, own) < 0) {
      violations.push(`seed ${opts.seed} t=${sched.now() - START}: member ${m.sid} sent a LOOKING vote for ${n.leader} (epoch ${n.peerEpoch}, zxid 0x${n.zxid.toString(16)}) in round ${n.electionEpoch}, worse than its own history (epoch ${own.peerEpoch}, zxid 0x${own.zxid.toString(16)})`);
    }
  }

  function checkDecision(m: Member, d: Extract<ElectionOutput, { type: 'decided' }>): void {
    const where = `seed ${opts.seed} t=${sched.now() - START}: member ${m.sid} decided ${d.state} ${d.vote.leader} in round ${d.vote.electionEpoch}`;
    for (const v of d.voters) if (!verifier.voters.has(v)) violations.push(`${where}: non-voter ${v} counted`);
    if (!verifier.containsQuorum(d.voters)) violations.push(`${where}: voters ${d.voters.join(',')} are not a quorum`);
    if (m.role === 'observer' && d.state !== 'OBSERVING') violations.push(`${where}: an observer must only observe`);
    if (m.role === 'participant' && d.state === 'OBSERVING') violations.push(`${where}: a participant observing`);
    if (!verifier.voters.has(d.vote.leader)) violations.push(`${where}: leader is not a voter`);
    // Observers are left out: voters answer a LOOKING observer with their previous election's vote
    // (their currentVote), not a proposal, and Apache's observer counts those answers as votes
    // (the recorded leader-failover-trunc run shows it settling on a dead leader that way).
    if (d.via === 'election' && m.role === 'participant') {
      // Each counted voter voted for this leader in this round, which it only does for a vote at
      // least as good as its own: the leader is the best of the quorum that elected it.
      const leaderVote: Candidate = { leader: d.vote.leader, zxid: d.vote.zxid, peerEpoch: d.vote.peerEpoch };
      for (const v of d.voters) {
        const hs = roundHistories.get(`${v}:${d.vote.electionEpoch}`) ?? [];
        // A member that joined this round's leader out of election (FOLLOWING without having voted
        // LOOKING in it) answers with the same vote, which counts too; its order was checked where
        // that leader was elected.
        if (hs.length === 0) continue;
        // One that voted LOOKING in this round and then joined this round's leader itself (by
        // election or out of election) answers with FOLLOWING/LEADING for it, which counts as in
        // Apache; its LOOKING votes were checked where it sent them.
        if (decided.some((x) => x.sid === Number(v) && x.state !== 'OBSERVING' && x.leader === d.vote.leader && x.round === d.vote.electionEpoch)) continue;
        const mine = hs.reduce((a, b) => (cmp({ leader: BigInt(v), zxid: a.lastLoggedZxid, peerEpoch: a.currentEpoch }, { leader: BigInt(v), zxid: b.lastLoggedZxid, peerEpoch: b.currentEpoch }) <= 0 ? a : b));
        if (cmp(leaderVote, { leader: BigInt(v), zxid: mine.lastLoggedZxid, peerEpoch: mine.currentEpoch }) < 0) {
          violations.push(`${where}: voter ${v} (epoch ${mine.currentEpoch}, zxid 0x${mine.lastLoggedZxid.toString(16)}) beats the leader's vote (epoch ${d.vote.peerEpoch}, zxid 0x${d.vote.zxid.toString(16)})`);
        }
      }
    }
  }

  // --- Zab stand-in ---

  function goLooking(m: Member, why: string): void {
    if (!m.alive) return;
    trace.push(`${sched.now() - START} looking ${m.sid} ${why}`);
    m.zabTimer?.cancel();
    m.zabTimer = null;
    m.zab = { kind: 'none' };
    m.core.becomeLooking();
    const begin = () => apply(m, m.core.startLooking(m.history));
    if (m.role === 'observer') m.zabTimer = after(m, OBSERVER_ELECTION_DELAY_MS, begin);
    else begin();
  }

  function onDecided(m: Member, state: ServerState, leader: number): void {
    if (state === 'LEADING') {
      m.zab = { kind: 'leading', established: false, epoch: 0n, followers: new Set() };
      m.zabTimer = after(m, INIT_LIMIT_MS, () => establish(m));
    } else {
      m.zab = { kind: 'learning', leader, connected: false };
      // Learner.connectToLeader: a few tries; the leader must be up, leading and reachable.
      let tries = 0;
      const attempt = () => {
        const l = members.get(leader)!;
        if (reachable(m.sid, leader) && l.zab.kind === 'leading') {
          l.zab.followers.add(m.sid);
          (m.zab as { connected: boolean }).connected = true;
          if (l.zab.established) sync(l, m);
          m.zabTimer = after(m, CHECK_MS, () => watchLeader(m));
          return;
        }
        if (++tries >= 5) return goLooking(m, `cannot reach leader ${leader}`);
        m.zabTimer = after(m, 100 + rint(1, 50), attempt);
      };
      m.zabTimer = after(m, rint(1, 20), attempt);
    }
  }

  function quorumOf(l: Member): number[] {
    if (l.zab.kind !== 'leading') return [];
    const zab = l.zab;
    return [l.sid, ...[...zab.followers].filter((f) => {
      const fm = members.get(f)!;
      return reachable(l.sid, f) && fm.zab.kind === 'learning' && fm.zab.leader === l.sid && fm.role === 'participant';
    })];
  }

  function establish(l: Member): void {
    if (l.zab.kind !== 'leading') return;
    const q = quorumOf(l);
    if (!verifier.containsQuorum(q.map(BigInt))) return goLooking(l, 'no quorum by initLimit');
    let epoch = 0n;
    for (const s of q) if (members.get(s)!.history.currentEpoch > epoch) epoch = members.get(s)!.history.currentEpoch;
    epoch += 1n;
    const prev = establishedEpochs.get(epoch);
    if (prev !== undefined && prev !== l.sid) violations.push(`seed ${opts.seed}: epoch ${epoch} established by ${prev} and ${l.sid}`);
    establishedEpochs.set(epoch, l.sid);
    l.zab.established = true;
    l.zab.epoch = epoch;
    l.history = { currentEpoch: epoch, lastLoggedZxid: epoch << 32n };
    l.core.updateElectionVote(epoch);
    trace.push(`${sched.now() - START} established ${l.sid} epoch ${epoch}`);
    for (const f of l.zab.followers) if (reachable(l.sid, f)) sync(l, members.get(f)!);
    l.zabTimer = after(l, CHECK_MS, () => lead(l));
  }

  function sync(l: Member, f: Member): void {
    if (l.zab.kind !== 'leading' || f.zab.kind !== 'learning') return;
    f.history = { ...l.history };
    f.core.updateElectionVote(l.zab.epoch);
  }

  function lead(l: Member): void {
    if (l.zab.kind !== 'leading') return;
    const q = quorumOf(l);
    if (!verifier.containsQuorum(q.map(BigInt))) return goLooking(l, 'lost quorum');
    // Commit a txn now and then; followers cut off fall behind, which later elections must weigh.
    if (rnd() < 0.5) {
      l.history = { ...l.history, lastLoggedZxid: l.history.lastLoggedZxid + 1n };
      for (const f of l.zab.followers) {
        const fm = members.get(f)!;
        if (reachable(l.sid, f) && fm.zab.kind === 'learning' && fm.zab.leader === l.sid) fm.history = { ...l.history };
      }
    }
    l.zabTimer = after(l, CHECK_MS, () => lead(l));
  }

  function watchLeader(f: Member): void {
    if (f.zab.kind !== 'learning') return;
    const l = members.get(f.zab.leader)!;
    if (!reachable(f.sid, l.sid) || l.zab.kind !== 'leading' || !l.zab.followers.has(f.sid)) return goLooking(f, `lost leader ${l.sid}`);
    f.zabTimer = after(f, CHECK_MS, () => watchLeader(f));
  }

  // --- faults ---

  function crash(m: Member): void {
    if (!m.alive) return;
    trace.push(`${sched.now() - START} crash ${m.sid}`);
    m.alive = false;
    sched.kill(m.owner);
    for (const [key, link] of links) if (key.startsWith(`${m.sid}>`)) link.queued = null;
    breakBetween(m.sid, -1);
    m.electionTimer = null;
    m.zabTimer = null;
    for (const other of members.values()) if (other.zab.kind === 'leading') other.zab.followers.delete(m.sid);
  }

  function restart(m: Member): void {
    if (m.alive) return;
    trace.push(`${sched.now() - START} restart ${m.sid}`);
    m.alive = true;
    m.incarnation++;
    m.owner = ownerSeq++;
    m.core = newCore(m.sid, m.role);
    m.cnx = new ElectionConnections<Notification>(BigInt(m.sid));
    m.zab = { kind: 'none' };
    apply(m, m.core.startLooking(m.history));
  }

  // --- schedule ---

  const all = [...members.values()];
  const initial = new Map(all.map((m) => [m.sid, { leader: BigInt(m.sid), zxid: m.history.lastLoggedZxid, peerEpoch: m.history.currentEpoch } as Candidate]));
  const startSpread = opts.clean ? 50 : 2000;
  for (const m of all) sched.schedule(rint(0, startSpread), () => apply(m, m.core.startLooking(m.history)), m.owner);

  let healAt = START;
  const keepDead = new Set<number>();
  if (!opts.clean) {
    const chaosMs = rint(3000, 25000);
    healAt = START + chaosMs;
    pDrop = rnd() * 0.4;
    pDup = rnd() * 0.2;
    maxDelay = rint(20, 400);
    // Faults at random moments of the chaos phase.
    for (let t = rint(0, 800); t < chaosMs; t += rint(200, 1500)) {
      const at = t;
      const r = rnd();
      const sid = rint(1, all.length);
      const other = rint(1, all.length);
      sched.schedule(at, () => {
        const m = members.get(sid)!;
        if (r < 0.25) crash(m);
        else if (r < 0.45) restart(m);
        else if (r < 0.8 && sid !== other) {
          blocked.add(sid < other ? `${sid}-${other}` : `${other}-${sid}`);
          breakBetween(sid, other);
        }
        else blocked.clear();
      });
    }
    // After healing at most a minority of voters stays down, so a quorum can form.
    const f = Math.floor((opts.voters - 1) / 2);
    for (const sid of voterIds) if (keepDead.size < f && rnd() < 0.3) keepDead.add(sid);
    for (const sid of observerIds) if (rnd() < 0.3) keepDead.add(sid);
    sched.schedule(chaosMs, () => {
      good = true;
      blocked.clear();
      trace.push(`${sched.now() - START} heal`);
      for (const m of members.values()) {
        if (keepDead.has(m.sid)) crash(m);
        else restart(m);
      }
    });
  }

  // Settled: one established leader, every live member led by it.
  const settled = (): boolean => {
    const live = all.filter((m) => m.alive);
    const leaders = live.filter((m) => m.zab.kind === 'leading' && m.zab.established);
    if (leaders.length !== 1) return false;
    const l = leaders[0]!;
    return live.every((m) => m === l || (m.zab.kind === 'learning' && m.zab.leader === l.sid && m.zab.connected));
  };

  let settleAt: number | null = null;
  const deadline = healAt + SETTLE_BOUND_MS;
  while (sched.now() <= deadline) {
    if (!sched.step()) break;
    if (sched.now() >= healAt && settled()) {
      settleAt = sched.now();
      break;
    }
  }
  if (settleAt === null) {
    const states = all.map((m) => `${m.sid}:${m.alive ? m.core.state + '/' + m.zab.kind : 'dead'} r${m.core.logicalClock}`).join(' ');
    violations.push(`seed ${opts.seed}: no single leader for all live members within ${SETTLE_BOUND_MS} ms of healing (${states})`);
  }

  if (opts.clean) {
    // Everyone in one round over a good network: each member decides once, in round 1, on the
    // best voter of all.
    let best = voterIds[0]!;
    for (const sid of voterIds) if (cmp(initial.get(sid)!, initial.get(best)!) > 0) best = sid;
    for (const m of all) {
      const mine = decided.filter((d) => d.sid === m.sid);
      const want = `${m.sid === best ? 'LEADING' : m.role === 'observer' ? 'OBSERVING' : 'FOLLOWING'} ${best} r1`;
      const got = mine.map((d) => `${d.state} ${d.leader} r${d.round}`).join(', ');
      if (got !== want) violations.push(`seed ${opts.seed} (clean): member ${m.sid} decided [${got}], expected [${want}]`);
    }
  }
  // Different leaders decided in one round (possible when members join late or messages are lost;
  // Zab's epoch handshake sends the odd ones back to LOOKING): counted, not a violation.
  const byRound = new Map<bigint, Set<bigint>>();
  for (const d of decided) {
    const s = byRound.get(d.round) ?? new Set<bigint>();
    s.add(d.leader);
    byRound.set(d.round, s);
  }
  const splitRounds = [...byRound.values()].filter((s) => s.size > 1).length;

  return {
    seed: opts.seed,
    options: opts,
    violations,
    settleMs: settleAt === null ? null : settleAt - healAt,
    decisions,
    splitRounds,
    messages,
    trace: hash(trace.join('\n')),
    ...(opts.keepLog ? { log: trace } : {}),
  };
}

function hash(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0;
  for (let i = 0; i < s.length; i++) {
    h1 = Math.imul(h1 ^ s.charCodeAt(i), 16777619) >>> 0;
    h2 = (h2 * 31 + s.charCodeAt(i)) >>> 0;
  }
  return `${h1.toString(16)}${h2.toString(16)}:${s.length}`;
}
