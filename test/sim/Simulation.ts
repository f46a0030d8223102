// One seeded run of the standalone server's pipeline: a population of simulated clients, a disk
// that loses unsynced writes on a crash, failing fsyncs, session expiry, reconnects; checked after
// every step. The server objects are the production ones (RequestPipeline, PrepStage, SessionOrder,
// LogStage, StandaloneCommit, DataTree, WatchManager, SessionTracker); only the edges are simulated.
import type { Codec } from '../../src/jute/codec.js';
import { Writer } from '../../src/jute/archive.js';
import { CreateMode, Err, OpCode } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';
import type { Txn } from '../../src/protocol/txn.js';
import type { Identity } from '../../src/auth/AuthProviders.js';
import { DataTree } from '../../src/tree/DataTree.js';
import { WatchManager } from '../../src/tree/WatchManager.js';
import { SessionTracker } from '../../src/session/SessionTracker.js';
import { ZkDatabase } from '../../src/tree/ZkDatabase.js';
import { ServerStats } from '../../src/server/ServerStats.js';
import { RequestPipeline } from '../../src/server/pipeline/RequestPipeline.js';
import { standaloneCommit } from '../../src/server/pipeline/Commit.js';
import type { ClientChannel } from '../../src/server/pipeline/ClientChannel.js';
import { Model, ROOT, type MStat } from './Model.js';
import { SimDisk, SimTxnLog } from './SimDisk.js';
import { SimScheduler, seededRandom, settleMicrotasks } from './SimRuntime.js';

const TICK_MS = 100;
const REAP_EVERY_MS = 250;
const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const PATHS = [ROOT, `${ROOT}/a`, `${ROOT}/b`, `${ROOT}/c`, `${ROOT}/a/x`, `${ROOT}/b/y`];

export interface SimOptions {
  clients: number;
  /** Client operations to issue in all. */
  ops: number;
  /** Chance per step of a crash (and restart) of the server. */
  crashRate: number;
}

export interface SimResult {
  seed: number;
  steps: number;
  violations: string[];
  acked: number;
  crashes: number;
  expiries: number;
  trace: string[];
}

interface Sent {
  xid: number;
  type: number;
  path: string;
  watch: boolean;
}

/** A client connection as the pipeline sees it, plus the checks a real client could make. */
class SimChannel implements ClientChannel {
  sessionId = 0n;
  readonly identities: Identity[] = [{ scheme: 'ip', id: '127.0.0.1' }];
  closed = false;
  readonly remoteAddress = '127.0.0.1';
  inflight = 0;
  readonly sent: Sent[] = [];
  lastZxid = -1;
  /** Data/exist watches armed on this connection, with the state seen when set. */
  readonly armed = new Map<string, string>();

  constructor(private readonly sim: Simulation, readonly client: SimClient) {}

  reply<T>(xid: number, zxid: number, err: number, _codec?: Codec<T>, body?: T): number {
    if (this.closed) return 0;
    this.sim.onReply(this, xid, zxid, err, body as unknown);
    return 0;
  }
  notify(type: number, path: string): void {
    if (this.closed) return;
    this.armed.delete(path);
    this.sim.trace.push(`c${this.client.id} event ${type} ${path}`);
  }
  canRead(): boolean {
    return true;
  }
  noteResponse(): void {}
  pauseReading(): void {}
  resumeReading(): void {}
  close(): void {
    this.closed = true;
  }
  closeAfterFlush(): void {
    this.closed = true;
  }
}

class SimClient {
  channel: SimChannel | null = null;
  sessionId = 0n;
  connecting = false;
  nextXid = 1;
  /** Until then the client is silent (long enough, its session expires). */
  pausedUntil = 0;
  constructor(readonly id: number) {}
}

export class Simulation {
  readonly sched = new SimScheduler();
  readonly random: () => number;
  readonly disk = new SimDisk();
  readonly trace: string[] = [];
  private readonly violations: string[] = [];
  private model = new Model();
  private pipeline!: RequestPipeline;
  private log!: SimTxnLog;
  private incarnation = 0;
  private down = false;
  private readonly clients: SimClient[] = [];
  /** Every write reply a client got: its zxid must be in the durable log, through any crash. */
  private readonly acked = new Set<number>();
  private opsLeft: number;
  private crashes = 0;
  private expiries = 0;

  constructor(readonly seed: number, private readonly opts: SimOptions) {
    this.random = seededRandom(seed);
    this.opsLeft = opts.ops;
    for (let i = 0; i < opts.clients; i++) this.clients.push(new SimClient(i));
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)]!;
  }

  // ------------------------------------------------------------------ the server, (re)started from the disk

  private boot(): void {
    this.incarnation++;
    const owner = this.incarnation;
    const runtime = this.sched.runtime(owner, this.random);
    const db = new ZkDatabase(new DataTree());
    this.model = new Model();
    for (const txn of this.disk.synced) {
      db.applyTxn(txn);
      this.model.apply(txn);
    }
    const tracker = new SessionTracker(TICK_MS, this.sched.now());
    for (const [id, timeout] of db.sessions) tracker.add(id, timeout, this.sched.now());
    this.log = new SimTxnLog(this.disk, this.sched, this.random, owner);
    const log = this.log;
    this.pipeline = new RequestPipeline(
      db, new WatchManager(), tracker, runtime,
      {
        serverId: 1, extendedTypesEnabled: true, skipACL: false, enforceQuota: false, reconfigEnabled: false,
        maxFieldBytes: 1 << 21, globalOutstandingLimit: 1000, containerMaxPerMinute: 200, containerMaxNeverUsedIntervalMs: 0,
      },
      standaloneCommit(log, runtime),
      new ServerStats(),
      { warn: () => {}, error: (m) => this.trace.push(`server error: ${m}`) },
      { afterApply: (_db, txn) => this.model.apply(txn) },
      (err) => {
        this.trace.push(`fatal: ${err.message}`);
        this.crash();
      },
    );
    this.down = false;
    this.trace.push(`boot #${owner} at zxid 0x${db.lastProcessedZxid.toString(16)} with ${db.sessions.size} sessions`);
    for (const id of this.acked) {
      if (id > db.lastProcessedZxid) this.violations.push(`acknowledged write 0x${id.toString(16)} lost (recovered to 0x${db.lastProcessedZxid.toString(16)})`);
    }
    const tick = () => {
      if (this.down) return;
      for (const id of this.pipeline.tick(this.sched.now())) {
        this.expiries++;
        for (const c of this.clients) if (c.sessionId === id) this.dropChannel(c);
      }
      this.sched.schedule(TICK_MS, tick, owner);
    };
    this.sched.schedule(TICK_MS, tick, owner);
    const reap = () => {
      if (this.down) return;
      this.pipeline.reapContainers().catch((e: Error) => this.violations.push(`reaper threw: ${e.message}`));
      this.sched.schedule(REAP_EVERY_MS, reap, owner);
    };
    this.sched.schedule(REAP_EVERY_MS, reap, owner);
  }

  private crash(): void {
    if (this.down) return;
    this.down = true;
    this.crashes++;
    this.log.crash();
    this.sched.kill(this.incarnation);
    this.trace.push(`crash at ${this.sched.now()}; ${this.disk.synced.length} txns durable`);
    for (const c of this.clients) this.dropChannel(c);
    this.sched.schedule(5 + Math.floor(this.random() * 50), () => this.boot());
  }

  private dropChannel(c: SimClient): void {
    if (c.channel) {
      c.channel.closed = true;
      if (!this.down) {
        this.pipeline.watches.removeWatcher(c.channel);
        this.pipeline.forget(c.channel);
      }
    }
    c.channel = null;
    c.connecting = false;
  }

  // ------------------------------------------------------------------ clients

  private clientStep(c: SimClient): void {
    if (this.down || this.opsLeft <= 0 || this.sched.now() < c.pausedUntil) return;
    if (!c.channel) return this.connect(c);
    if (c.channel.closed) return this.dropChannel(c);
    if (c.connecting) return;
    if (this.chance(0.01)) {
      // Go silent for longer than the session timeout: the session must expire.
      c.pausedUntil = this.sched.now() + 1500;
      return;
    }
    if (this.chance(0.02)) {
      // The connection drops; the client will come back with the same session.
      this.trace.push(`c${c.id} disconnects`);
      this.dropChannel(c);
      return;
    }
    this.opsLeft--;
    this.issue(c, c.channel);
  }

  private connect(c: SimClient): void {
    const ch = new SimChannel(this, c);
    c.channel = ch;
    const p = this.pipeline;
    if (c.sessionId !== 0n && p.tracker.isActive(c.sessionId)) {
      ch.sessionId = c.sessionId;
      p.tracker.add(c.sessionId, 1000, this.sched.now());
      this.trace.push(`c${c.id} resumes 0x${c.sessionId.toString(16)}`);
      return;
    }
    c.connecting = true;
    c.nextXid = 1;
    p.createSession(ch, 1000, (id) => {
      if (c.channel !== ch) return;
      c.connecting = false;
      if (id === null) return this.dropChannel(c);
      ch.sessionId = id;
      c.sessionId = id;
      this.trace.push(`c${c.id} new session 0x${id.toString(16)}`);
    });
  }

  private issue(c: SimClient, ch: SimChannel): void {
    const path = this.pick(PATHS);
    const roll = this.random();
    const w = new Writer(64);
    let type: number;
    let watch = false;
    let reqPath = path;
    if (roll < 0.22) {
      type = OpCode.create;
      const mode = this.pick([CreateMode.PERSISTENT, CreateMode.EPHEMERAL, CreateMode.PERSISTENT_SEQUENTIAL, CreateMode.EPHEMERAL_SEQUENTIAL]);
      if (mode === CreateMode.PERSISTENT_SEQUENTIAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL) reqPath = `${path === ROOT ? ROOT + '/a' : path}/q-`;
      R.CreateRequest.write(w, { path: reqPath, data: Buffer.from(`c${c.id}`), acl: OPEN, flags: mode });
    } else if (roll < 0.27) {
      // Containers: the reaper deletes them once emptied, while clients may recreate the path.
      type = OpCode.createContainer;
      R.CreateRequest.write(w, { path, data: null, acl: OPEN, flags: CreateMode.CONTAINER });
    } else if (roll < 0.31) {
      type = OpCode.multi;
      const other = this.pick(PATHS);
      R.MultiHeader.write(w, { type: OpCode.create, done: false, err: -1 });
      R.CreateRequest.write(w, { path, data: Buffer.from('m'), acl: OPEN, flags: this.pick([CreateMode.PERSISTENT, CreateMode.EPHEMERAL]) });
      R.MultiHeader.write(w, { type: OpCode.setData, done: false, err: -1 });
      R.SetDataRequest.write(w, { path: other, data: Buffer.from('multi'), version: -1 });
      if (this.chance(0.5)) {
        R.MultiHeader.write(w, { type: OpCode.delete, done: false, err: -1 });
        R.DeleteRequest.write(w, { path: this.pick(PATHS), version: -1 });
      }
      R.MultiHeader.write(w, { type: -1, done: true, err: -1 });
    } else if (roll < 0.42) {
      type = OpCode.setData;
      const n = this.model.nodes.get(path);
      const version = n && this.chance(0.5) ? n.version : this.chance(0.3) ? 99 : -1;
      R.SetDataRequest.write(w, { path, data: Buffer.from(`v${this.random().toString(36).slice(2, 6)}`), version });
    } else if (roll < 0.5) {
      type = OpCode.delete;
      R.DeleteRequest.write(w, { path, version: -1 });
    } else if (roll < 0.72) {
      type = OpCode.getData;
      watch = this.chance(0.5);
      R.GetDataRequest.write(w, { path, watch });
    } else if (roll < 0.84) {
      type = OpCode.exists;
      watch = this.chance(0.5);
      R.ExistsRequest.write(w, { path, watch });
    } else if (roll < 0.94) {
      type = OpCode.getChildren;
      R.GetChildrenRequest.write(w, { path, watch: false });
    } else if (roll < 0.99) {
      type = OpCode.sync;
      R.SyncRequest.write(w, { path });
    } else {
      type = OpCode.closeSession;
    }
    const xid = c.nextXid++;
    ch.sent.push({ xid, type, path: reqPath, watch });
    this.pipeline.tracker.touch(ch.sessionId, this.sched.now());
    if (type === OpCode.closeSession) this.trace.push(`c${c.id} closes its session`);
    const ok = this.pipeline.submit(ch, xid, type, w.toBuffer());
    if (!ok) this.violations.push(`opcode ${type} refused`);
  }

  // ------------------------------------------------------------------ checks on what clients see

  onReply(ch: SimChannel, xid: number, zxid: number, err: number, body: unknown): void {
    const who = `c${ch.client.id} (0x${ch.sessionId.toString(16)})`;
    const req = ch.sent.shift();
    if (!req || req.xid !== xid) {
      this.violations.push(`${who}: reply xid ${xid} but the oldest request outstanding is ${req?.xid}`);
      return;
    }
    if (zxid < ch.lastZxid) this.violations.push(`${who}: reply zxid 0x${zxid.toString(16)} after 0x${ch.lastZxid.toString(16)}`);
    ch.lastZxid = Math.max(ch.lastZxid, zxid);
    const m = this.model;
    const node = m.nodes.get(req.path);
    switch (req.type) {
      case OpCode.create:
      case OpCode.createContainer:
      case OpCode.multi:
      case OpCode.setData:
      case OpCode.delete:
      case OpCode.closeSession: {
        this.acked.add(zxid);
        if (err !== Err.OK) return;
        const res = m.results.get(zxid);
        if (req.type === OpCode.create || req.type === OpCode.createContainer) {
          const path = (body as { path: string }).path;
          if (res?.path !== path) this.violations.push(`${who}: create answered ${path} but txn 0x${zxid.toString(16)} made ${res?.path}`);
        } else if (req.type === OpCode.setData) {
          this.compareStat(who, `setData ${req.path}`, (body as { stat: R.Stat }).stat, res?.stat);
        } else if (req.type === OpCode.closeSession) {
          ch.client.sessionId = 0n;
        }
        return;
      }
      case OpCode.getData:
      case OpCode.exists: {
        const stat = err === Err.OK ? (body as { stat: R.Stat }).stat : null;
        if ((err === Err.NoNode) !== !node) this.violations.push(`${who}: ${req.path} read err ${err} but the model says ${node ? 'exists' : 'absent'}`);
        if (stat && node) {
          this.compareStat(who, `read ${req.path}`, stat, m.statOf(node));
          if (req.type === OpCode.getData && !(body as { data: Buffer | null }).data?.equals(node.data) && node.data.length > 0) {
            this.violations.push(`${who}: getData ${req.path} data differs from the model`);
          }
        }
        // A watch armed earlier on this connection must have fired before a read that sees a change.
        const seen = node ? `${node.czxid}:${node.mzxid}` : 'none';
        const before = ch.armed.get(req.path);
        if (before !== undefined && before !== seen) {
          this.violations.push(`${who}: read of ${req.path} sees a change (${before} → ${seen}) whose watch event has not arrived`);
        }
        if (req.watch && (node || req.type === OpCode.exists)) ch.armed.set(req.path, seen);
        return;
      }
      case OpCode.getChildren: {
        if (err !== Err.OK) {
          if (node) this.violations.push(`${who}: getChildren ${req.path} err ${err} but it exists`);
          return;
        }
        const got = [...(body as { children: string[] }).children].sort().join();
        const want = node ? [...node.children].sort().join() : '<absent>';
        if (got !== want) this.violations.push(`${who}: getChildren ${req.path} = [${got}], model [${want}]`);
        return;
      }
      case OpCode.sync:
        if (err !== Err.OK) this.violations.push(`${who}: sync err ${err}`);
        return;
    }
  }

  private compareStat(who: string, what: string, got: R.Stat, want: MStat | undefined): void {
    if (!want) {
      this.violations.push(`${who}: ${what}: no such result in the history`);
      return;
    }
    const g: MStat = {
      czxid: got.czxid, mzxid: got.mzxid, pzxid: got.pzxid, cversion: got.cversion, version: got.version,
      owner: got.ephemeralOwner, dataLength: got.dataLength, numChildren: got.numChildren,
    };
    for (const k of Object.keys(want) as (keyof MStat)[]) {
      if (g[k] !== want[k]) this.violations.push(`${who}: ${what}: Stat.${k} ${String(g[k])}, history says ${String(want[k])}`);
    }
  }

  // ------------------------------------------------------------------ the run

  async run(): Promise<SimResult> {
    this.boot();
    for (const c of this.clients) {
      const loop = () => {
        this.clientStep(c);
        if (this.opsLeft > 0) this.sched.schedule(1 + Math.floor(this.random() * 30), loop);
      };
      this.sched.schedule(Math.floor(this.random() * 10), loop);
    }
    const maxSteps = this.opts.ops * 40;
    while (this.sched.steps < maxSteps && this.sched.step()) {
      await settleMicrotasks();
      if (!this.down && this.chance(this.opts.crashRate)) {
        if (this.chance(0.3)) this.log.failNext = true; // the next fsync fails: the server must stop
        else this.crash();
      }
      this.violations.push(...this.model.violations.splice(0));
      if (this.violations.length) break;
      if (this.opsLeft <= 0 && !this.down && this.pipeline.outstanding === 0) break;
    }
    // Finally: a crash now must lose nothing acknowledged.
    if (!this.violations.length) {
      this.crash();
      while (this.down && this.sched.step()) await settleMicrotasks();
      this.violations.push(...this.model.violations.splice(0));
    }
    return {
      seed: this.seed, steps: this.sched.steps, violations: this.violations, acked: this.acked.size,
      crashes: this.crashes, expiries: this.expiries, trace: this.trace,
    };
  }
}

export async function simulate(seed: number, opts: Partial<SimOptions> = {}): Promise<SimResult> {
  return new Simulation(seed, { clients: 4, ops: 250, crashRate: 0.004, ...opts }).run();
}

export type { Txn };
