// The console's acting API: every znode operation runs on the logged-in user's own ZooKeeper
// session (see Sessions), so the server applies that user's ACLs and version checks; the API only
// translates JSON to client calls and ZooKeeper's error codes to HTTP statuses.
import type { ZooKeeper } from '../../client/index.js';
import { isZooKeeperError, codeMessage, validatePath, Err } from '../../client/index.js';
import type { ACL, Stat } from '../../client/index.js';
import { CreateMode } from '../../protocol/constants.js';

export type Json = Record<string, unknown>;

/** An HTTP answer: status and JSON body. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly body: Json) {
    super(String(body.error));
  }
}

const bad = (message: string): HttpError => new HttpError(400, { error: 'BadRequest', message });

/** Bytes of node data one answer carries; larger values are cut and flagged `truncated`. */
export const DATA_LIMIT = 64 * 1024;
/** Nodes one export or import may hold, and nodes one search may visit. */
export const TREE_LIMIT = 10_000;
export const SEARCH_RESULTS = 200;

const hex = (n: number | bigint): string => '0x' + BigInt.asUintN(64, BigInt(n)).toString(16);

export function statJson(s: Stat): Json {
  return {
    czxid: hex(s.czxid),
    mzxid: hex(s.mzxid),
    pzxid: hex(s.pzxid),
    ctime: new Date(Number(s.ctime)).toISOString(),
    mtime: new Date(Number(s.mtime)).toISOString(),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: hex(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Text unless the bytes are not UTF-8 or hold control characters other than tab/CR/LF. */
export function dataJson(data: Buffer | null, limit = DATA_LIMIT): Json {
  const full = data ?? Buffer.alloc(0);
  const truncated = full.length > limit;
  const shown = truncated ? full.subarray(0, limit) : full;
  let utf8: string | null = null;
  try {
    // The cut may split a character; the text then stops before it.
    const text = strictUtf8.decode(truncated ? shown.subarray(0, completeUtf8Length(shown)) : shown);
    // eslint-disable-next-line no-control-regex
    if (!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) utf8 = text;
  } catch {
    utf8 = null;
  }
  return { utf8, base64: shown.toString('base64'), binary: utf8 === null, length: full.length, truncated };
}

/** Length of `b` without a trailing incomplete UTF-8 sequence. */
function completeUtf8Length(b: Buffer): number {
  for (let j = b.length - 1; j >= 0 && j >= b.length - 4; j--) {
    const byte = b[j]!;
    if ((byte & 0xc0) === 0x80) continue;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return b.length - j < need ? j : b.length;
  }
  return b.length;
}

export const aclJson = (acl: ACL[]): Json[] => acl.map((a) => ({ perms: a.perms, scheme: a.id.scheme, id: a.id.id }));

/** ZooKeeper's error as an HTTP answer; anything else is rethrown. */
export function zkFailure(e: unknown): HttpError {
  if (!isZooKeeperError(e)) throw e;
  const status =
    e.code === Err.NoNode ? 404
    : e.code === Err.NoAuth || e.code === Err.AuthFailed ? 403
    : e.code === Err.BadVersion || e.code === Err.NodeExists || e.code === Err.NotEmpty ? 409
    : e.code === Err.BadArguments || e.code === Err.InvalidACL || e.code === Err.NoChildrenForEphemerals ? 400
    : e.code === Err.ConnectionLoss || e.code === Err.OperationTimeout || e.code === Err.SessionExpired ? 503
    : 500;
  return new HttpError(status, { error: e.name, code: e.code, message: e.message || codeMessage(e.code), path: e.path });
}

async function zk<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw zkFailure(e);
  }
}

// ---------------------------------------------------------------- input checks

function str(body: Json, key: string, optional = false): string {
  const v = body[key];
  if (v === undefined && optional) return '';
  if (typeof v !== 'string') throw bad(`"${key}" must be a string`);
  return v;
}

function int(body: Json, key: string, dflt?: number): number {
  const v = body[key];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1 || v > 0x7fffffff) throw bad(`"${key}" must be an integer version (-1 for any)`);
  return v;
}

export function path(v: unknown, key = 'path'): string {
  if (typeof v !== 'string') throw bad(`"${key}" must be a string`);
  try {
    validatePath(v);
  } catch (e) {
    throw bad((e as Error).message);
  }
  return v;
}

/** Node data from `data` in the given encoding (utf8, base64 or hex). */
export function decodeData(body: Json): Buffer {
  const text = str(body, 'data', true);
  const enc = body.encoding ?? 'utf8';
  if (enc === 'utf8') return Buffer.from(text, 'utf8');
  if (enc === 'base64') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw bad('"data" is not valid base64');
    return Buffer.from(text, 'base64');
  }
  if (enc === 'hex') {
    const h = text.replace(/\s+/g, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw bad('"data" is not valid hex (pairs of hex digits)');
    return Buffer.from(h, 'hex');
  }
  throw bad('"encoding" must be utf8, base64 or hex');
}

/** An ACL list as the API accepts it: [{perms, scheme, id}], perms as a number or "cdrwa" letters. */
export function decodeAcl(v: unknown): ACL[] {
  if (!Array.isArray(v) || v.length === 0) throw bad('"acl" must be a non-empty list of {perms, scheme, id}');
  if (v.length > 100) throw bad('"acl" has more than 100 entries');
  return v.map((a, i) => {
    if (!a || typeof a !== 'object') throw bad(`acl[${i}] must be an object`);
    const o = a as Json;
    if (typeof o.scheme !== 'string' || !o.scheme || typeof o.id !== 'string') throw bad(`acl[${i}] needs string "scheme" and "id"`);
    let perms: number;
    if (typeof o.perms === 'number' && Number.isInteger(o.perms) && o.perms >= 0 && o.perms <= 31) perms = o.perms;
    else if (typeof o.perms === 'string' && /^[rwcda]*$/.test(o.perms)) perms = permsFromLetters(o.perms);
    else throw bad(`acl[${i}].perms must be 0..31 or letters from "cdrwa"`);
    return { perms, id: { scheme: o.scheme, id: o.id } };
  });
}

function permsFromLetters(s: string): number {
  let p = 0;
  for (const c of s) p |= c === 'r' ? 1 : c === 'w' ? 2 : c === 'c' ? 4 : c === 'd' ? 8 : 16;
  return p;
}

const MODES: Record<string, number> = {
  PERSISTENT: CreateMode.PERSISTENT,
  PERSISTENT_SEQUENTIAL: CreateMode.PERSISTENT_SEQUENTIAL,
  EPHEMERAL: CreateMode.EPHEMERAL,
  EPHEMERAL_SEQUENTIAL: CreateMode.EPHEMERAL_SEQUENTIAL,
  CONTAINER: CreateMode.CONTAINER,
};

const childPath = (parent: string, name: string): string => (parent === '/' ? '/' + name : parent + '/' + name);

// ---------------------------------------------------------------- operations

export async function getNode(z: ZooKeeper, p: string): Promise<Json> {
  const [d, a, c] = await zk(Promise.all([z.getData(p), z.getACL(p), z.getChildren(p) as Promise<string[]>]));
  return { path: p, stat: statJson(d.stat), acl: aclJson(a.acl), data: dataJson(d.data), children: [...c].sort() };
}

export async function createNode(z: ZooKeeper, body: Json): Promise<Json> {
  const mode = body.mode === undefined ? 'PERSISTENT' : body.mode;
  if (typeof mode !== 'string' || !(mode in MODES)) throw bad(`"mode" must be one of ${Object.keys(MODES).join(', ')}`);
  const p = body.path;
  if (typeof p !== 'string') throw bad('"path" must be a string');
  try {
    validatePath(p, mode.endsWith('SEQUENTIAL'));
  } catch (e) {
    throw bad((e as Error).message);
  }
  const data = decodeData(body);
  const acl = decodeAcl(body.acl);
  const r = await zk(z.create2(p, data, { mode: MODES[mode] as never, acl }));
  return { path: r.path, stat: statJson(r.stat) };
}

export async function setNodeData(z: ZooKeeper, body: Json): Promise<Json> {
  const p = path(body.path);
  const version = int(body, 'version');
  const stat = await zk(z.setData(p, decodeData(body), version));
  return { path: p, stat: statJson(stat) };
}

export async function setNodeAcl(z: ZooKeeper, body: Json): Promise<Json> {
  const p = path(body.path);
  const version = int(body, 'version');
  const stat = await zk(z.setACL(p, decodeAcl(body.acl), version));
  return { path: p, stat: statJson(stat) };
}

/** Delete needs `confirm` equal to the path: the page's confirmation step, checked here too. */
export async function deleteNode(z: ZooKeeper, body: Json): Promise<Json> {
  const p = path(body.path);
  if (p === '/' || p === '/zookeeper' || p.startsWith('/zookeeper/')) throw bad(`${p} cannot be deleted`);
  const version = int(body, 'version');
  if (body.confirm !== p) throw bad('"confirm" must repeat the path being deleted');
  await zk(z.delete(p, version));
  return { path: p, deleted: true };
}

/** Paths under `root` (itself included) whose text contains `q`, visiting at most TREE_LIMIT nodes the user may list. */
export async function search(z: ZooKeeper, root: string, q: string): Promise<Json> {
  const needle = q.toLowerCase();
  const matches: string[] = [];
  let visited = 0;
  let truncated = false;
  let level = [root];
  while (level.length && !truncated) {
    const next: string[] = [];
    for (const p of level) if (p.toLowerCase().includes(needle) && matches.length < SEARCH_RESULTS) matches.push(p);
    // A level's listings go out together; a node the user may not list is simply not descended.
    const kids = await Promise.all(level.map((p) => (z.getChildren(p) as Promise<string[]>).catch((e) => {
      if (isZooKeeperError(e) && (e.code === Err.NoAuth || e.code === Err.NoNode)) return [] as string[];
      throw zkFailure(e);
    })));
    level.forEach((p, i) => {
      for (const c of kids[i]!.sort()) next.push(childPath(p, c));
    });
    visited += level.length;
    if (visited + next.length > TREE_LIMIT || matches.length >= SEARCH_RESULTS) {
      truncated = next.length > 0;
      // The next level is still matched by name, only not descended.
      for (const p of next) if (p.toLowerCase().includes(needle) && matches.length < SEARCH_RESULTS) matches.push(p);
      break;
    }
    level = next;
  }
  return { root, q, matches, truncated };
}

// ---------------------------------------------------------------- export / import

export const EXPORT_FORMAT = 'zookeeper-console-export';

interface ExportNode {
  /** Relative to the export root: '' for the root itself, '/a/b' below it. */
  path: string;
  /** Base64; null for a node whose data is null (kept distinct from empty, as the wire does). */
  data: string | null;
  acl: Json[];
  ephemeral?: boolean;
}

/** The subtree as the user can read it; nodes it may not read are listed in `unreadable`. */
export async function exportTree(z: ZooKeeper, root: string): Promise<Json> {
  const nodes: ExportNode[] = [];
  const unreadable: string[] = [];
  let level = [root];
  while (level.length) {
    if (nodes.length + level.length > TREE_LIMIT) throw new HttpError(413, { error: 'TooLarge', message: `more than ${TREE_LIMIT} nodes under ${root}` });
    const read = await Promise.all(level.map(async (p) => {
      try {
        const [d, a, c] = await Promise.all([z.getData(p), z.getACL(p), z.getChildren(p) as Promise<string[]>]);
        return { p, d, a, c };
      } catch (e) {
        if (isZooKeeperError(e) && e.code === Err.NoAuth) return { p, denied: true as const };
        if (isZooKeeperError(e) && e.code === Err.NoNode && p !== root) return null; // deleted meanwhile
        throw zkFailure(e);
      }
    }));
    const next: string[] = [];
    for (const r of read) {
      if (!r) continue;
      if ('denied' in r) {
        unreadable.push(r.p);
        continue;
      }
      const rel = r.p === root ? '' : root === '/' ? r.p : r.p.slice(root.length);
      const n: ExportNode = { path: rel, data: r.d.data === null ? null : r.d.data.toString('base64'), acl: aclJson(r.a.acl) };
      if (r.d.stat.ephemeralOwner !== 0n) n.ephemeral = true;
      nodes.push(n);
      for (const c of [...r.c].sort()) next.push(childPath(r.p, c));
    }
    level = next;
  }
  return { format: EXPORT_FORMAT, version: 1, root, exportedAt: new Date().toISOString(), nodes, unreadable };
}

/**
 * Recreates an export under `root`: parents before children; existing nodes are left alone unless
 * `overwrite` (then their data is set). Ephemeral nodes are not recreated (they belonged to a session).
 */
export async function importTree(z: ZooKeeper, body: Json): Promise<Json> {
  const root = path(body.root, 'root');
  const doc = body.export as Json | undefined;
  if (!doc || typeof doc !== 'object' || doc.format !== EXPORT_FORMAT || !Array.isArray(doc.nodes)) {
    throw bad(`"export" must be a ${EXPORT_FORMAT} document (as /console/api/export returns)`);
  }
  if (doc.nodes.length > TREE_LIMIT) throw new HttpError(413, { error: 'TooLarge', message: `more than ${TREE_LIMIT} nodes` });
  const overwrite = body.overwrite === true;
  const plan = doc.nodes.map((n: unknown, i: number) => {
    if (!n || typeof n !== 'object') throw bad(`export.nodes[${i}] must be an object`);
    const o = n as Json;
    if (typeof o.path !== 'string' || (o.path !== '' && !o.path.startsWith('/'))) throw bad(`export.nodes[${i}].path must be '' or start with /`);
    const full = o.path === '' ? root : root === '/' ? o.path : root + o.path;
    try {
      validatePath(full);
    } catch (e) {
      throw bad(`export.nodes[${i}]: ${(e as Error).message}`);
    }
    const data = o.data === null ? null : decodeData({ data: o.data ?? '', encoding: 'base64' });
    return { full, data, acl: decodeAcl(o.acl), ephemeral: o.ephemeral === true };
  });
  // Shallow first, so a parent exists before its children are made.
  plan.sort((a, b) => a.full.split('/').length - b.full.split('/').length);
  const result = { created: 0, updated: 0, skipped: 0, failed: [] as Json[] };
  for (const n of plan) {
    if (n.ephemeral || n.full === '/' || n.full === '/zookeeper' || n.full.startsWith('/zookeeper/')) {
      result.skipped++;
      continue;
    }
    try {
      await z.create(n.full, n.data, { acl: n.acl });
      result.created++;
    } catch (e) {
      if (isZooKeeperError(e) && e.code === Err.NodeExists) {
        if (!overwrite) {
          result.skipped++;
          continue;
        }
        try {
          await z.setData(n.full, n.data, -1);
          result.updated++;
        } catch (e2) {
          const f = zkFailure(e2);
          result.failed.push({ path: n.full, error: f.body.error });
        }
        continue;
      }
      const f = zkFailure(e);
      result.failed.push({ path: n.full, error: f.body.error });
    }
  }
  return { root, ...result };
}
