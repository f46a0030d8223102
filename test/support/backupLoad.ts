// Write load with a ledger, for backup tests: every acknowledged write is recorded with the zxid
// its reply carried, so the tree at any zxid is known without asking the server (apply the
// recorded writes up to it, in zxid order) and a restored tree can be compared with it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient } from './RawClient.js';
import { freePort } from './ServerProcess.js';
import { Err, OpCode } from '../../src/protocol/constants.js';
import * as R from '../../src/protocol/records.js';

export interface NodeState {
  data: string;
  czxid: number;
  mzxid: number;
  version: number;
  aversion: number;
  perms: number;
}

type Write =
  | { zxid: number; kind: 'create'; path: string; data: string }
  | { zxid: number; kind: 'set'; path: string; data: string }
  | { zxid: number; kind: 'delete'; path: string }
  | { zxid: number; kind: 'acl'; path: string; perms: number };

const acl = (perms: number) => [{ perms, id: { scheme: 'world', id: 'anyone' } }];
export const ROOTS = ['/pre', '/load'];

export class Ledger {
  readonly writes: Write[] = [];
  failures = 0;

  /** The tree under ROOTS after every recorded write with zxid <= `zxid`. */
  treeAt(zxid: number): Map<string, NodeState> {
    const t = new Map<string, NodeState>();
    for (const w of [...this.writes].sort((a, b) => a.zxid - b.zxid)) {
      if (w.zxid > zxid) break;
      const n = t.get(w.path);
      if (w.kind === 'create') t.set(w.path, { data: w.data, czxid: w.zxid, mzxid: w.zxid, version: 0, aversion: 0, perms: 31 });
      else if (w.kind === 'delete') t.delete(w.path);
      else if (!n) throw new Error(`ledger: ${w.kind} of ${w.path} at 0x${w.zxid.toString(16)} before its create`);
      else if (w.kind === 'set') Object.assign(n, { data: w.data, mzxid: w.zxid, version: n.version + 1 });
      else Object.assign(n, { perms: w.perms, aversion: n.aversion + 1 });
    }
    return t;
  }

  get maxZxid(): number {
    return this.writes.reduce((m, w) => Math.max(m, w.zxid), 0);
  }
}

async function create(c: RawClient, ledger: Ledger, path: string, data: string): Promise<void> {
  const r = await c.request(OpCode.create, R.CreateRequest, { path, data: Buffer.from(data), acl: acl(31), flags: 0 });
  if (r.err === Err.OK) ledger.writes.push({ zxid: r.zxid, kind: 'create', path, data });
  else ledger.failures++;
}

/** /pre and /load, and `count` children of /pre with some data, pipelined in windows. */
export async function populate(port: number, ledger: Ledger, count: number): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    for (const root of ROOTS) await create(c, ledger, root, '');
    // Some bulk, so that streaming the snapshot takes long enough for writes to land meanwhile.
    const pad = 'x'.repeat(512);
    for (let i = 0; i < count; i += 500) {
      const batch: Promise<void>[] = [];
      for (let j = i; j < Math.min(count, i + 500); j++) batch.push(create(c, ledger, `/pre/n-${j}`, `${j}-${pad}`));
      await Promise.all(batch);
    }
  } finally {
    c.close();
  }
}

/**
 * Writes from `clients` connections, each keeping `window` requests in flight, until stop()
 * (or `maxOps` in all): setData, creates, deletes and setACLs over /pre/n-<0..count> and /load.
 */
export function startLoad(port: number, ledger: Ledger, count: number, opts: { clients?: number; window?: number; maxOps?: number } = {}) {
  let stopping = false;
  let ops = 0;
  const maxOps = opts.maxOps ?? 200_000;
  const one = async (c: RawClient, id: number, seq: number): Promise<void> => {
    const k = Math.floor(Math.random() * count);
    const path = `/pre/n-${k}`;
    const roll = Math.random();
    if (roll < 0.45) {
      const data = `v${id}-${seq}`;
      const r = await c.request(OpCode.setData, R.SetDataRequest, { path, data: Buffer.from(data), version: -1 });
      if (r.err === Err.OK) ledger.writes.push({ zxid: r.zxid, kind: 'set', path, data });
      else ledger.failures++;
    } else if (roll < 0.75) {
      await create(c, ledger, `/load/c${id}-${seq}`, `new-${seq}`);
    } else if (roll < 0.9) {
      const r = await c.request(OpCode.delete, R.DeleteRequest, { path, version: -1 });
      if (r.err === Err.OK) ledger.writes.push({ zxid: r.zxid, kind: 'delete', path });
      else ledger.failures++;
    } else {
      // Alternating ACLs: nodes re-ACLed while the snapshot is written are its fuzzy ACL case.
      const perms = seq % 2 === 0 ? 15 : 31;
      const r = await c.request(OpCode.setACL, R.SetACLRequest, { path, acl: acl(perms), version: -1 });
      if (r.err === Err.OK) ledger.writes.push({ zxid: r.zxid, kind: 'acl', path, perms });
      else ledger.failures++;
    }
  };
  const loop = async (id: number): Promise<void> => {
    const c = await RawClient.connect(port);
    let seq = 0;
    const inflight = new Set<Promise<void>>();
    try {
      while (!stopping && ops < maxOps) {
        ops++;
        const p = one(c, id, seq++).finally(() => inflight.delete(p));
        inflight.add(p);
        if (inflight.size >= (opts.window ?? 16)) await Promise.race(inflight);
      }
      await Promise.all(inflight);
    } finally {
      c.close();
    }
  };
  const done = Promise.all(Array.from({ length: opts.clients ?? 2 }, (_, i) => loop(i)));
  return {
    get ops() {
      return ops;
    },
    async stop(): Promise<void> {
      stopping = true;
      await done;
    },
  };
}

/** The tree under ROOTS as a server at `port` shows it. */
export async function readTree(port: number): Promise<Map<string, NodeState>> {
  const c = await RawClient.connect(port);
  const out = new Map<string, NodeState>();
  try {
    const read = async (path: string): Promise<void> => {
      const d = await c.request(OpCode.getData, R.GetDataRequest, { path, watch: false });
      if (d.err !== Err.OK) throw new Error(`getData ${path}: err ${d.err}`);
      const { data, stat } = R.GetDataResponse.read(d.body);
      const a = await c.request(OpCode.getACL, R.GetACLRequest, { path });
      const list = R.GetACLResponse.read(a.body).acl ?? [];
      if (list.length !== 1 || list[0]!.id.scheme !== 'world') throw new Error(`${path}: unexpected ACL ${JSON.stringify(list)}`);
      out.set(path, {
        data: data?.toString() ?? '', czxid: Number(stat.czxid), mzxid: Number(stat.mzxid),
        version: stat.version, aversion: stat.aversion, perms: list[0]!.perms,
      });
    };
    for (const root of ROOTS) {
      const ch = await c.request(OpCode.getChildren, R.GetChildrenRequest, { path: root, watch: false });
      if (ch.err === Err.NoNode) continue;
      await read(root);
      const { children } = R.GetChildrenResponse.read(ch.body);
      for (let i = 0; i < children.length; i += 500) {
        await Promise.all(children.slice(i, i + 500).map((n) => read(`${root}/${n}`)));
      }
    }
  } finally {
    c.close();
  }
  return out;
}

/** First differences between two trees, for an assertion message. */
export function treeDiff(expected: Map<string, NodeState>, actual: Map<string, NodeState>, max = 5): string[] {
  const out: string[] = [];
  for (const [p, e] of expected) {
    const a = actual.get(p);
    if (!a) out.push(`missing ${p}`);
    else if (JSON.stringify(a) !== JSON.stringify(e)) out.push(`${p}: expected ${JSON.stringify(e)}, got ${JSON.stringify(a)}`);
    if (out.length >= max) return out;
  }
  for (const p of actual.keys()) {
    if (!expected.has(p)) out.push(`unexpected ${p}`);
    if (out.length >= max) break;
  }
  return out;
}

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/zk-server.js');

export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const clean = { ...process.env };
    for (const k of ['ZOOCFGDIR', 'ZOOCFG', 'ZOOPIDFILE', 'ZOO_LOG_DIR', 'JVMFLAGS', 'SERVER_JVMFLAGS', 'ZK_ADMIN_AUTH']) delete clean[k];
    execFile(process.execPath, [CLI, ...args], { env: { ...clean, ...env }, timeout: 120000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A zoo.cfg for a server on free loopback ports with its AdminServer on. */
export async function writeCfg(dir: string, extra = ''): Promise<string> {
  const cfg = path.join(dir, 'zoo.cfg');
  const [client, admin] = [await freePort(), await freePort()];
  fs.writeFileSync(
    cfg,
    `tickTime=200\ndataDir=${dir}/data\nclientPort=${client}\nclientPortAddress=127.0.0.1\n` +
      `admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=${admin}\n${extra}`,
  );
  return cfg;
}

export interface TakenBackup {
  dir: string;
  zxid: number;
  snapshotZxid: number;
  attempts: number;
}

/**
 * `zk-server backup` while the load runs, until one comes out fuzzy (writes landed while the
 * snapshot was streamed, zxid > snapshot zxid): that is the case the exactness claim is about,
 * and how many writes land in the window depends on scheduling, so a quiet take is retried.
 */
export async function takeFuzzyBackup(cfg: string, parent: string, maxAttempts = 5): Promise<TakenBackup> {
  for (let attempt = 1; ; attempt++) {
    const dir = path.join(parent, `backup-${attempt}`);
    const b = await runCli(['backup', dir, cfg]);
    if (b.code !== 0) throw new Error(`zk-server backup failed (${b.code}): ${b.stderr}`);
    if (!/^Backup of 127\.0\.0\.1:\d+ at zxid 0x[0-9a-f]+ written to .*: snapshot 0x[0-9a-f]+ \(\d+ bytes\) \+ \d+ txns, \d+ znodes, digest -?\d+, \d+ ms\n$/.test(b.stdout)) {
      throw new Error(`unexpected zk-server backup output: ${b.stdout}`);
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'backup.json'), 'utf8')) as Record<string, string>;
    const zxid = Number(manifest.zxid);
    const snapshotZxid = Number(manifest.snapshot_zxid);
    if (zxid > snapshotZxid || attempt >= maxAttempts) return { dir, zxid, snapshotZxid, attempts: attempt };
  }
}
