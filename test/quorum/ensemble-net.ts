// An ensemble of our zk-server processes whose member-to-member links each go through a TCP proxy
// the test owns: member i's zoo.cfg names, for every other member j, a proxy i→j in front of j's
// quorum (and election) port, so a test can black-hole, refuse or kill any directed link without
// touching the processes. Clients reach members directly.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { fourLetterWord, makeTempDir, startServerProcess, writeZooCfg, type RunningServer } from '../support/ServerProcess.js';
import { HOST, srvrMode } from '../support/Ensemble.js';
import { OUR_ZK_CLI } from '../support/OurZk.js';
import { call, type NzkClient } from '../support/nzk.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Ports for these tests from a block of 24000-24999, each test its own hundred: outside the
 * kernel's ephemeral range (32768+), so no port-0 listener or outgoing connection of a test
 * running in parallel can take one between our probe and the member's bind.
 */
export class PortRange {
  private next: number;
  constructor(private readonly base: number, private readonly end = base + 100) {
    if (base < 24000 || this.end > 25000) throw new Error(`port block ${base}-${this.end} outside 24000-24999`);
    this.next = base;
  }

  async take(): Promise<number> {
    while (this.next < this.end) {
      const p = this.next++;
      const free = await new Promise<boolean>((resolve) => {
        const srv = net.createServer();
        srv.once('error', () => resolve(false));
        srv.listen(p, '127.0.0.1', () => srv.close(() => resolve(true)));
      });
      if (free) return p;
    }
    throw new Error(`no free port left in ${this.base}-${this.end - 1}`);
  }
}

interface Ports {
  client: number;
  quorum: number;
  election: number;
}

export interface EnsembleOptions {
  tickTime?: number;
  syncLimit?: number;
  initLimit?: number;
  observers?: number[];
  /** Extra zoo.cfg entries for every member. */
  extra?: Record<string, string | number | boolean>;
  /** Extra environment for every member (SERVER_JVMFLAGS for -D properties). */
  env?: Record<string, string>;
  /** Members dial each other directly: no proxies (nothing to cut, less relaying under load). */
  direct?: boolean;
  /** First port of this test's block of 100 in 24000-24999. */
  portBase: number;
}

export class ProxiedEnsemble {
  readonly root = makeTempDir('ensemble-net-');
  readonly procs = new Map<number, RunningServer>();
  /** `${from}>${to}` → proxies (quorum, election) in front of `to`, used by `from`. */
  private readonly links = new Map<string, { quorum: LinkProxy; election: LinkProxy }>();
  private readonly ports = new Map<number, Ports>();
  private readonly cfgFiles = new Map<number, string>();
  private starts = 0;

  private constructor(readonly ids: number[], readonly opts: EnsembleOptions) {}

  static async create(ids: number[], opts: EnsembleOptions): Promise<ProxiedEnsemble> {
    const e = new ProxiedEnsemble(ids, opts);
    const range = new PortRange(opts.portBase);
    for (const id of ids) e.ports.set(id, { client: await range.take(), quorum: await range.take(), election: await range.take() });
    for (const from of opts.direct ? [] : ids) {
      for (const to of ids) {
        if (from === to) continue;
        const p = e.ports.get(to)!;
        e.links.set(`${from}>${to}`, {
          quorum: await new LinkProxy(p.quorum).start(await range.take()),
          // Election links: a refused dial is retried by the election itself; no need to hold it.
          election: await new LinkProxy(p.election, 0).start(await range.take()),
        });
      }
    }
    for (const id of ids) e.writeConfig(id);
    return e;
  }

  private writeConfig(id: number): void {
    const dir = path.join(this.root, `m${id}`);
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'myid'), `${id}\n`);
    const observers = new Set(this.opts.observers ?? []);
    const own = this.ports.get(id)!;
    const cfg: Record<string, string | number | boolean> = {
      tickTime: this.opts.tickTime ?? 200, initLimit: this.opts.initLimit ?? 10, syncLimit: this.opts.syncLimit ?? 5,
      dataDir, clientPort: own.client, clientPortAddress: HOST, '4lw.commands.whitelist': '*', 'admin.enableServer': false,
      // Test clients ask for long sessions, so that no expiry (a txn) happens unless a test wants one.
      maxSessionTimeout: 60000,
    };
    for (const o of this.ids) {
      const link = this.links.get(`${id}>${o}`);
      const p = o === id || !link ? this.ports.get(o)! : { quorum: link.quorum.port, election: link.election.port };
      cfg[`server.${o}`] = `${HOST}:${p.quorum}:${p.election}${observers.has(o) ? ':observer' : ''}`;
    }
    if (observers.has(id)) cfg.peerType = 'observer';
    Object.assign(cfg, this.opts.extra ?? {});
    const cfgFile = path.join(dir, 'zoo.cfg');
    writeZooCfg(cfgFile, cfg);
    this.cfgFiles.set(id, cfgFile);
  }

  cfgFile(id: number): string {
    return this.cfgFiles.get(id)!;
  }

  clientPort(id: number): number {
    return this.ports.get(id)!.client;
  }

  dataDir(id: number): string {
    return path.join(this.root, `m${id}`, 'data');
  }

  idOf(s: RunningServer): number {
    for (const [id, p] of this.procs) if (p === s) return id;
    throw new Error(`not a member: ${s.connectString}`);
  }

  async start(id: number): Promise<RunningServer> {
    const logDir = path.join(this.root, `log${id}-${this.starts++}`);
    fs.mkdirSync(logDir, { recursive: true });
    const s = await startServerProcess(`member-${id}`, process.execPath, [OUR_ZK_CLI, 'start-foreground', this.cfgFiles.get(id)!], HOST,
      this.clientPort(id), this.dataDir(id), false, logDir, { startTimeoutMs: 30000, env: this.opts.env });
    this.procs.set(id, s);
    return s;
  }

  async startAll(ids = this.ids): Promise<void> {
    const started = await Promise.allSettled(ids.map((id) => this.start(id)));
    for (const s of started) if (s.status === 'rejected') throw s.reason;
  }

  /** SIGKILL: no shutdown, nothing flushed beyond what was fsynced. */
  kill(id: number): void {
    const s = this.procs.get(id);
    if (!s) return;
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  async stop(id: number): Promise<void> {
    await this.procs.get(id)?.stop({ keepDataDir: true });
  }

  log(id: number): string {
    const s = this.procs.get(id);
    return s ? fs.readFileSync(s.logFile, 'utf8') : '';
  }

  /** Every directed link between `a` and `b` (both ports). */
  private between(a: number, b: number): LinkProxy[] {
    const out: LinkProxy[] = [];
    for (const k of [`${a}>${b}`, `${b}>${a}`]) {
      const l = this.links.get(k);
      if (l) out.push(l.quorum, l.election);
    }
    return out;
  }

  /**
   * Cut `id` off from every other member like a network partition: bytes on live links vanish
   * (no reset, so only timeouts can tell) and new connections are refused.
   */
  isolate(id: number): void {
    for (const o of this.ids) {
      if (o === id) continue;
      for (const p of this.between(id, o)) {
        p.stall(true);
        p.block(true);
      }
    }
  }

  /** Only the quorum links others use to reach `id` black-holed (election links untouched). */
  stallQuorumTo(id: number, on = true): void {
    for (const o of this.ids) if (o !== id) this.links.get(`${o}>${id}`)?.quorum.stall(on);
  }

  /** Undo isolate/stall: live black-holed connections are dropped so both ends reconnect. */
  heal(id: number): void {
    for (const o of this.ids) {
      if (o === id) continue;
      for (const p of this.between(id, o)) {
        p.sever();
        p.stall(false);
        p.block(false);
      }
    }
  }

  async close(): Promise<void> {
    for (const s of this.procs.values()) await s.stop({ keepDataDir: true }).catch(() => {});
    for (const l of this.links.values()) {
      await l.quorum.stop();
      await l.election.stop();
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * A loopback TCP proxy for one directed link between members, which a test can black-hole (bytes
 * vanish, no reset), block (new connections refused), or sever (live ones reset). Unlike a plain
 * proxy it retries the upstream connect for a while: a member that dials a just-elected leader a
 * few ms before that leader listens then gets through, as it would without a proxy (its own dial
 * retries a refused connect, but a proxy that accepted and then reset would end its role).
 */
export class LinkProxy {
  private server: net.Server | null = null;
  private readonly pairs = new Set<[net.Socket, net.Socket | null]>();
  private blocked = false;
  private stalled = false;
  port = 0;

  constructor(private readonly targetPort: number, private readonly upstreamRetryMs = 2000) {}

  async start(port: number): Promise<this> {
    const server = net.createServer((client) => this.onClient(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, HOST, () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    return this;
  }

  private onClient(client: net.Socket): void {
    client.on('error', () => {});
    if (this.blocked) {
      client.destroy();
      return;
    }
    const pair: [net.Socket, net.Socket | null] = [client, null];
    this.pairs.add(pair);
    const early: Buffer[] = [];
    client.on('data', (d) => {
      if (this.stalled) return;
      if (pair[1]) pair[1].write(d);
      else early.push(d);
    });
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      pair[1]?.destroy();
    };
    client.on('close', end);
    const giveUpAt = Date.now() + this.upstreamRetryMs;
    const dial = () => {
      if (client.destroyed) return;
      const up = net.connect({ host: HOST, port: this.targetPort });
      up.once('connect', () => {
        pair[1] = up;
        for (const d of early.splice(0)) up.write(d);
        up.on('data', (d) => {
          if (!this.stalled) client.write(d);
        });
        up.on('close', end);
      });
      up.once('error', () => {
        up.destroy();
        if (pair[1] === up) return; // close handles it
        if (Date.now() < giveUpAt && !this.blocked) setTimeout(dial, 10);
        else end();
      });
    };
    dial();
  }

  /** Kills every live connection (both legs), like a network failure. */
  sever(): void {
    for (const [a, b] of [...this.pairs]) {
      a.destroy();
      b?.destroy();
    }
    this.pairs.clear();
  }

  block(on = true): void {
    this.blocked = on;
  }

  stall(on = true): void {
    this.stalled = on;
  }

  async stop(): Promise<void> {
    this.sever();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }
}

/** Polls srvr until `ids` show one leader and the rest follow (observers observe); bounded. */
export async function waitRoles(e: ProxiedEnsemble, ids: number[], timeoutMs: number): Promise<{ leader: number; followers: number[] }> {
  const deadline = Date.now() + timeoutMs;
  const observers = new Set(e.opts.observers ?? []);
  let modes: (string | null)[] = [];
  while (Date.now() < deadline) {
    modes = await Promise.all(ids.map((id) => srvrMode(e.procs.get(id)!)));
    const leaders = ids.filter((_, i) => modes[i] === 'leader');
    const ok = ids.every((id, i) => modes[i] === 'leader' || modes[i] === (observers.has(id) ? 'observer' : 'follower'));
    if (leaders.length === 1 && ok) return { leader: leaders[0]!, followers: ids.filter((id) => id !== leaders[0] && !observers.has(id)) };
    await sleep(50);
  }
  assert.fail(`members ${ids.join(',')}: no leader + followers within ${timeoutMs} ms; modes ${JSON.stringify(modes)}`);
}

/** The member's last zxid, from srvr. */
export async function srvrZxid(s: RunningServer): Promise<bigint> {
  const m = /Zxid: (0x[0-9a-f]+)/.exec(await fourLetterWord(s.host, s.port, 'srvr'));
  assert.ok(m, `no Zxid in srvr of ${s.connectString}`);
  return BigInt(m[1]!);
}

/** Every znode under `root` with its data, depth first (a tree dump for comparing members). */
export async function dumpTree(c: NzkClient, root = '/'): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (p: string): Promise<void> => {
    const [[data], [kids]] = await Promise.all([call<[Buffer | undefined]>(c, 'getData', p), call<[string[]]>(c, 'getChildren', p)]);
    out.set(p, data ? data.toString('base64') : '');
    const base = p === '/' ? '' : p;
    await Promise.all(kids.filter((k) => !(p === '/' && k === 'zookeeper')).map((k) => walk(`${base}/${k}`)));
  };
  await walk(root);
  return out;
}

/**
 * create, retried across connection losses while the ensemble changes leader: a NODE_EXISTS after
 * a lost attempt means that attempt was committed, which counts as acknowledged here.
 */
export async function createSurely(c: NzkClient, p: string, data: Buffer, timeoutMs = 30000): Promise<void> {
  let lost = false;
  await retry(async () => {
    try {
      await call(c, 'create', p, data);
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (lost && code === -110) return; // NODE_EXISTS
      lost = true;
      throw e;
    }
  }, timeoutMs);
}

/** Retries `f` until it succeeds or the deadline passes (writes while an ensemble re-elects). */
export async function retry<T>(f: () => Promise<T>, timeoutMs: number, pauseMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(pauseMs);
    }
  }
}
