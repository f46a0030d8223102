// The web console on the AdminServer: a page at /console (static files in console/static), the
// JSON API under /console/api/*, and digest login. A logged-in user acts through a ZooKeeper
// session of their own (console/Sessions.ts), so ACLs, version checks and audit apply as to any
// client. Without a login, node reads are checked with the HTTP peer's ip identity only, as a
// client connecting from that address would be, and nothing can be changed.
import type http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sessions, COOKIE, sameToken, type Login } from './console/Sessions.js';
import * as Api from './console/Api.js';
import { chartSample, ensembleView } from './console/Figures.js';
import type { ServerView } from './ServerView.js';
import type { Connection } from './Connection.js';
import { monitorRows } from './FourLetterWords.js';
import { hasPerm, maskDigests } from './AclCheck.js';
import { normaliseAddress, type Identity } from '../auth/AuthProviders.js';
import { Perm } from '../protocol/constants.js';

/** Bytes of node data the console returns; larger values are cut and flagged `truncated`. */
export const CONSOLE_DATA_LIMIT = Api.DATA_LIMIT;

type Json = Record<string, unknown>;

/** A connection as `stat` lists it (AdminServer and console share this shape). */
export function connBrief(c: Connection): Json {
  return {
    remote_socket_address: `${c.remoteAddress}:${c.remotePort}`,
    interest_ops: c.established ? 1 : 0,
    outstanding_requests: c.inflight,
    packets_received: c.packetsReceived,
    packets_sent: c.packetsSent,
  };
}

/** A connection as `cons` lists it: the brief form plus session and latency figures. */
export function connFull(c: Connection): Json {
  const avg = c.latencyCount ? c.totalLatency / c.latencyCount : 0;
  return {
    ...connBrief(c),
    session_id: '0x' + BigInt.asUintN(64, c.sessionId).toString(16),
    last_operation: c.lastOp,
    established: new Date(c.establishedAt).toISOString(),
    session_timeout: c.sessionTimeout,
    last_cxid: c.lastCxid,
    last_zxid: c.lastZxid,
    last_response_time: c.lastResponseTime,
    last_latency: c.lastLatency,
    min_latency: c.latencyCount ? c.minLatency : 0,
    avg_latency: avg,
    max_latency: c.maxLatency,
  };
}

function validPath(p: string): boolean {
  if (!p.startsWith('/') || p.includes('\u0000')) return false;
  if (p === '/') return true;
  if (p.endsWith('/') || p.includes('//')) return false;
  return !p.split('/').slice(1).some((c) => c === '.' || c === '..');
}

/** The node API: status code and body, as a client from `ids` would be allowed to see it. */
export function nodeView(zk: ServerView, path: string, ids: Identity[]): [number, Json] {
  if (!validPath(path)) return [400, { path, error: 'BadArguments' }];
  const tree = zk.tree;
  const node = tree.get(path);
  if (!node) return [404, { path, error: 'NoNode' }];
  const acl = tree.aclOf(node);
  const skip = zk.config.skipACL;
  if (!hasPerm(acl, Perm.READ, ids, skip)) return [403, { path, error: 'NoAuth' }];
  const admin = hasPerm(acl, Perm.ADMIN, ids, skip);
  return [
    200,
    {
      path,
      stat: Api.statJson(node.stat()),
      // As getACL: a reader without ADMIN sees digest ids with the hash masked.
      acl: (admin ? acl : maskDigests(acl)).map((a) => ({ perms: a.perms, scheme: a.id.scheme, id: a.id.id })),
      data: Api.dataJson(node.data),
      children: [...node.children].sort(),
    },
  ];
}

export async function statsView(zk: ServerView): Promise<Json> {
  const [conns, paths, total] = zk.watches.dataSummary();
  const monitor: Json = {};
  for (const [k, v] of await monitorRows(zk)) monitor[k] = v;
  return {
    ...monitor,
    zxid: '0x' + BigInt.asUintN(64, BigInt(zk.lastZxid)).toString(16),
    watch_summary: { num_connections: conns, num_paths: paths, num_total_watches: total },
  };
}

export function connectionsView(zk: ServerView): Json {
  return { connections: [...zk.connections].map(connFull) };
}


// ---------------------------------------------------------------- static files

const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
};

/**
 * This module's own file, from a stack frame: `import.meta` would not compile in the package's
 * CommonJS build, and `__filename` does not exist in the ES module one.
 */
function moduleFile(): string | null {
  const frame = (new Error().stack ?? '').split('\n').find((l) => /Console\.(js|ts)\b/.test(l));
  const m = frame && /((?:file:\/\/)?\/[^():]*Console\.(?:js|ts))/.exec(frame);
  if (!m) return null;
  return m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
}

/**
 * The static files: in the source tree when there is one (a checkout, where a plain `tsc` build
 * never copies them and a copy in dist/ could be stale), else next to the compiled module, where
 * `npm run build` / `prepare` copies them (dist/src, and so the npm package; the CommonJS build
 * in dist/cjs uses that same copy).
 */
export function assetDir(): string {
  const file = moduleFile();
  const here = file ? path.dirname(file) : process.cwd();
  const candidates = [
    path.resolve(here, '..', '..', '..', 'src', 'server', 'console', 'static'),
    path.join(here, 'console', 'static'),
    path.resolve(here, '..', '..', 'src', 'server', 'console', 'static'),
  ];
  return candidates.find((d) => fs.existsSync(path.join(d, 'index.html'))) ?? candidates[1]!;
}

const assetCache = new Map<string, Buffer>();
function asset(name: string): Buffer | null {
  let b = assetCache.get(name);
  if (!b) {
    try {
      b = fs.readFileSync(path.join(assetDir(), name));
    } catch {
      return null;
    }
    assetCache.set(name, b);
  }
  return b;
}

// Scripts and styles only from this server; no inline code, no framing, no foreign requests.
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// ---------------------------------------------------------------- HTTP plumbing

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, extra: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...extra,
  });
  res.end(body);
}

const json = (res: http.ServerResponse, status: number, body: Json, extra: http.OutgoingHttpHeaders = {}): void =>
  send(res, status, 'application/json', JSON.stringify(body) + '\n', extra);

/** Request bodies larger than this are refused (an import of a large subtree fits). */
export const MAX_BODY = 16 * 1024 * 1024;

function readJson(req: http.IncomingMessage): Promise<Json> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (d: Buffer) => {
      if (failed) return;
      size += d.length;
      if (size > MAX_BODY) {
        failed = true;
        reject(new Api.HttpError(413, { error: 'TooLarge', message: `request body over ${MAX_BODY} bytes` }));
        req.resume();
        return;
      }
      chunks.push(d);
    });
    req.on('error', (e) => !failed && reject(e));
    req.on('end', () => {
      if (failed) return;
      let v: unknown;
      try {
        v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        reject(new Api.HttpError(400, { error: 'BadRequest', message: 'body is not valid JSON' }));
        return;
      }
      if (!v || typeof v !== 'object' || Array.isArray(v)) reject(new Api.HttpError(400, { error: 'BadRequest', message: 'body must be a JSON object' }));
      else resolve(v as Json);
    });
  });
}

/**
 * A state-changing request must come from the console's own page: JSON (a cross-site form cannot
 * send it without a CORS preflight, which is never granted), from this origin when the browser
 * says where it comes from, and, once logged in, with the login's CSRF token.
 */
function originProblem(req: http.IncomingMessage): string | null {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return 'content-type must be application/json';
  const site = req.headers['sec-fetch-site'];
  if (site && site !== 'same-origin' && site !== 'none') return `cross-site request (${site})`;
  const origin = req.headers.origin;
  if (origin && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'bad Origin header';
    }
    if (host !== req.headers.host) return `Origin ${origin} is not this console`;
  } else if (origin === 'null') return 'opaque Origin';
  return null;
}

const cookie = (value: string, maxAge: number): string =>
  `${COOKIE}=${value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`;

// ---------------------------------------------------------------- routing

const consoles = new WeakMap<ServerView, Sessions>();
function sessionsOf(view: ServerView): Sessions {
  let s = consoles.get(view);
  if (!s) {
    s = new Sessions(view);
    consoles.set(view, s);
  }
  return s;
}

/** Ends every console login of this server (the AdminServer stops). */
export async function closeConsole(view: ServerView): Promise<void> {
  const s = consoles.get(view);
  consoles.delete(view);
  await s?.close();
}

/** Serve /console and /console/api/*; the caller routes only those paths here. */
export function handleConsole(zk: ServerView, req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
  route(zk, req, res, url).catch((e: unknown) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (e instanceof Api.HttpError) json(res, e.status, e.body);
    else json(res, 500, { error: 'InternalError', message: (e as Error)?.message ?? String(e) });
  });
}

const READS = new Set(['/console/api/node', '/console/api/stats', '/console/api/connections', '/console/api/metrics',
  '/console/api/ensemble', '/console/api/session', '/console/api/search', '/console/api/export']);
const WRITES = new Set(['/console/api/login', '/console/api/logout', '/console/api/create', '/console/api/set',
  '/console/api/acl', '/console/api/delete', '/console/api/import']);

async function route(zk: ServerView, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  const p = url.pathname;
  const method = req.method ?? 'GET';
  if (p === '/console' || p === '/console/' || p.startsWith('/console/static/')) {
    if (method !== 'GET' && method !== 'HEAD') return send(res, 405, 'text/plain', 'Method Not Allowed\n', { allow: 'GET, HEAD' });
    if (p === '/console') return send(res, 308, 'text/plain', 'see /console/\n', { location: '/console/' });
    const name = p === '/console/' ? 'index.html' : p.slice('/console/static/'.length);
    const type = ASSETS[name];
    const body = type ? asset(name) : null;
    if (!type || !body) return send(res, 404, 'text/plain', 'Not Found\n');
    return send(res, 200, type, body, { 'content-security-policy': PAGE_CSP, 'x-frame-options': 'DENY' });
  }
  if (READS.has(p)) {
    if (method !== 'GET' && method !== 'HEAD') return send(res, 405, 'text/plain', 'Method Not Allowed\n', { allow: 'GET, HEAD' });
  } else if (WRITES.has(p)) {
    if (method !== 'POST') return send(res, 405, 'text/plain', 'Method Not Allowed\n', { allow: 'POST' });
  } else {
    return json(res, 404, { error: 'Not Found' });
  }
  const sessions = sessionsOf(zk);
  const login = sessions.find(req.headers.cookie);
  if (method === 'POST') {
    const why = originProblem(req);
    if (why) return json(res, 403, { error: 'CsrfRejected', message: why });
    if (p !== '/console/api/login') {
      if (!login) return json(res, 401, { error: 'NotLoggedIn', message: 'log in first' });
      if (!sameToken(req.headers['x-csrf-token'] as string | undefined, login.csrf)) {
        return json(res, 403, { error: 'CsrfRejected', message: 'missing or wrong X-CSRF-Token' });
      }
    }
  }
  if (p === '/console/api/session') {
    if (!login) return json(res, 401, { error: 'NotLoggedIn' });
    return json(res, 200, { user: login.user, csrf: login.csrf });
  }
  if (p === '/console/api/logout') {
    sessions.drop(login!.id);
    return json(res, 200, { loggedOut: true }, { 'set-cookie': cookie('', 0) });
  }
  if (!zk.running || zk.serving === false) {
    return json(res, 503, { error: 'NotServing', message: 'This ZooKeeper instance is not currently serving requests' });
  }
  switch (p) {
    case '/console/api/login': return doLogin(sessions, req, res, login);
    case '/console/api/stats': return json(res, 200, await statsView(zk));
    case '/console/api/connections': return json(res, 200, connectionsView(zk));
    case '/console/api/metrics': return json(res, 200, await chartSample(zk));
    case '/console/api/ensemble': return json(res, 200, await ensembleView(zk));
    case '/console/api/node': {
      const nodePath = url.searchParams.get('path') ?? '/';
      if (login) return json(res, 200, await Api.getNode(login.zk, Api.path(nodePath)));
      const ids: Identity[] = [{ scheme: 'ip', id: normaliseAddress(req.socket.remoteAddress) }];
      const [status, body] = nodeView(zk, nodePath, ids);
      return json(res, status, body);
    }
  }
  if (!login) return json(res, 401, { error: 'NotLoggedIn', message: 'log in first' });
  switch (p) {
    case '/console/api/search': {
      const q = url.searchParams.get('q') ?? '';
      if (!q) throw new Api.HttpError(400, { error: 'BadRequest', message: '"q" is required' });
      return json(res, 200, await Api.search(login.zk, Api.path(url.searchParams.get('path') ?? '/'), q));
    }
    case '/console/api/export': {
      const root = Api.path(url.searchParams.get('path') ?? '/');
      const name = root === '/' ? 'root' : root.slice(1).replace(/[^A-Za-z0-9._-]+/g, '_');
      return json(res, 200, await Api.exportTree(login.zk, root), { 'content-disposition': `attachment; filename="zk-export-${name}.json"` });
    }
  }
  const body = await readJson(req);
  switch (p) {
    case '/console/api/create': return json(res, 200, await Api.createNode(login.zk, body));
    case '/console/api/set': return json(res, 200, await Api.setNodeData(login.zk, body));
    case '/console/api/acl': return json(res, 200, await Api.setNodeAcl(login.zk, body));
    case '/console/api/delete': return json(res, 200, await Api.deleteNode(login.zk, body));
    case '/console/api/import': return json(res, 200, await Api.importTree(login.zk, body));
  }
  json(res, 404, { error: 'Not Found' });
}

async function doLogin(sessions: Sessions, req: http.IncomingMessage, res: http.ServerResponse, old: Login | null): Promise<void> {
  const body = await readJson(req);
  const user = body.user;
  const password = body.password;
  if (typeof user !== 'string' || !user || user.includes(':') || user.length > 256) {
    throw new Api.HttpError(400, { error: 'BadRequest', message: '"user" must be a non-empty name without ":"' });
  }
  if (typeof password !== 'string' || password.length > 1024) throw new Api.HttpError(400, { error: 'BadRequest', message: '"password" must be a string' });
  let login: Login;
  try {
    login = await sessions.login(user, password, normaliseAddress(req.socket.remoteAddress));
  } catch (e) {
    throw new Api.HttpError(503, { error: 'LoginFailed', message: `no ZooKeeper session: ${(e as Error).message}` });
  }
  if (old) sessions.drop(old.id);
  json(res, 200, { user: login.user, csrf: login.csrf }, { 'set-cookie': cookie(login.id, 24 * 3600) });
}
