// Read-only web console on the AdminServer: one self-contained page at /console and the JSON it
// reads from /console/api/*. Every node read is checked as a ZooKeeper client connecting from the
// same peer address would be checked (its only identity is ip:<address>), so the console never
// shows data that such a client could not read.
import crypto from 'node:crypto';
import type http from 'node:http';
import type { ServerView } from './ServerView.js';
import type { Connection } from './Connection.js';
import { monitorRows } from './FourLetterWords.js';
import { hasPerm, maskDigests } from './AclCheck.js';
import { normaliseAddress, type Identity } from '../auth/AuthProviders.js';
import { Perm } from '../protocol/constants.js';
import type { Stat } from '../protocol/records.js';

/** Bytes of node data the console returns; larger values are cut and flagged `truncated`. */
export const CONSOLE_DATA_LIMIT = 64 * 1024;

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

const hex = (n: number | bigint): string => '0x' + BigInt.asUintN(64, BigInt(n)).toString(16);

function statJson(s: Stat): Json {
  return {
    czxid: hex(s.czxid),
    mzxid: hex(s.mzxid),
    pzxid: hex(s.pzxid),
    ctime: new Date(s.ctime).toISOString(),
    mtime: new Date(s.mtime).toISOString(),
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
function dataJson(data: Buffer | null): Json {
  const full = data ?? Buffer.alloc(0);
  const truncated = full.length > CONSOLE_DATA_LIMIT;
  const shown = truncated ? full.subarray(0, CONSOLE_DATA_LIMIT) : full;
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
      stat: statJson(node.stat()),
      // As getACL: a reader without ADMIN sees digest ids with the hash masked.
      acl: (admin ? acl : maskDigests(acl)).map((a) => ({ perms: a.perms, scheme: a.id.scheme, id: a.id.id })),
      data: dataJson(node.data),
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
    zxid: hex(zk.lastZxid),
    watch_summary: { num_connections: conns, num_paths: paths, num_total_watches: total },
  };
}

export function connectionsView(zk: ServerView): Json {
  return { connections: [...zk.connections].map(connFull) };
}

function send(res: http.ServerResponse, status: number, type: string, body: string, extra: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  res.end(body);
}

const json = (res: http.ServerResponse, status: number, body: Json): void =>
  send(res, status, 'application/json', JSON.stringify(body) + '\n');

/** Serve /console and /console/api/*; the caller routes only those paths here. */
export function handleConsole(zk: ServerView, req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain', 'Method Not Allowed\n', { allow: 'GET, HEAD' });
    return;
  }
  const p = url.pathname;
  if (p === '/console' || p === '/console/') {
    send(res, 200, 'text/html; charset=utf-8', PAGE, { 'content-security-policy': PAGE_CSP, 'x-frame-options': 'DENY' });
    return;
  }
  if (!zk.running) {
    json(res, 503, { error: 'This ZooKeeper instance is not currently serving requests' });
    return;
  }
  switch (p) {
    case '/console/api/node': {
      const ids: Identity[] = [{ scheme: 'ip', id: normaliseAddress(req.socket.remoteAddress) }];
      const [status, body] = nodeView(zk, url.searchParams.get('path') ?? '/', ids);
      json(res, status, body);
      return;
    }
    case '/console/api/stats':
      statsView(zk).then(
        (body) => json(res, 200, body),
        (e: Error) => json(res, 500, { error: e.message }),
      );
      return;
    case '/console/api/connections':
      json(res, 200, connectionsView(zk));
      return;
  }
  json(res, 404, { error: 'Not Found' });
}

// ---- the page ----
// Client code builds every element with textContent; no server or znode text reaches innerHTML.

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:13px/1.4 system-ui,sans-serif;color:#222;background:#f4f5f7}
header{background:#263238;color:#fff;padding:8px 14px;display:flex;gap:16px;align-items:baseline}
header h1{font-size:16px;margin:0}#status{font-size:12px;color:#b0bec5}
main{display:grid;grid-template-columns:minmax(240px,1fr) 2fr;gap:10px;padding:10px}
section{background:#fff;border:1px solid #dde;border-radius:4px;padding:8px 10px;overflow:auto}
h2{font-size:13px;margin:0 0 6px;text-transform:uppercase;color:#546e7a}
#tree{max-height:60vh}#tree ul{list-style:none;margin:0;padding-left:16px}#tree>ul{padding-left:0}
.row{cursor:pointer;white-space:nowrap;padding:1px 2px;border-radius:2px}.row:hover{background:#eceff1}
.row.sel{background:#cfd8dc}.tog{display:inline-block;width:14px;color:#78909c}.locked{color:#b71c1c}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:2px 6px;border-bottom:1px solid #eee;font-size:12px}
th{color:#546e7a;font-weight:600}pre{background:#fafafa;border:1px solid #eee;padding:6px;max-height:40vh;overflow:auto;white-space:pre-wrap;word-break:break-all;margin:4px 0}
.err{color:#b71c1c;font-weight:600}.wide{grid-column:1 / -1}.kv td:first-child{color:#546e7a;width:40%}
#panels{display:grid;grid-template-columns:1fr 1fr;gap:10px}
`;

const SCRIPT = `
'use strict';
var API = '/console/api/';
function el(tag, text, cls) {
  var e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
function getJson(path) {
  return fetch(API + path, { cache: 'no-store' }).then(function (r) {
    return r.json().then(function (b) { return { status: r.status, body: b }; });
  });
}
function childPath(parent, name) { return parent === '/' ? '/' + name : parent + '/' + name; }
function kvTable(rows) {
  var t = el('table', null, 'kv');
  rows.forEach(function (r) {
    var tr = el('tr');
    tr.appendChild(el('td', r[0]));
    tr.appendChild(el('td', r[1]));
    t.appendChild(tr);
  });
  return t;
}
function hexDump(b64) {
  var bin = atob(b64), lines = [];
  for (var off = 0; off < bin.length; off += 16) {
    var hx = [], asc = '';
    for (var i = off; i < Math.min(off + 16, bin.length); i++) {
      var c = bin.charCodeAt(i);
      hx.push((c < 16 ? '0' : '') + c.toString(16));
      asc += c >= 32 && c < 127 ? bin[i] : '.';
    }
    lines.push(('0000000' + off.toString(16)).slice(-8) + '  ' + hx.join(' ').padEnd(48) + '  ' + asc);
  }
  return lines.join('\\n');
}
function permString(p) {
  return (p & 1 ? 'r' : '-') + (p & 2 ? 'w' : '-') + (p & 4 ? 'c' : '-') + (p & 8 ? 'd' : '-') + (p & 16 ? 'a' : '-');
}

var selectedRow = null;
function showNode(path, row) {
  if (selectedRow) selectedRow.classList.remove('sel');
  selectedRow = row; if (row) row.classList.add('sel');
  var box = document.getElementById('node');
  clear(box);
  box.appendChild(el('h2', path));
  getJson('node?path=' + encodeURIComponent(path)).then(function (r) {
    var n = r.body;
    if (n.error) { box.appendChild(el('p', n.error, 'err')); return; }
    var d = n.data;
    box.appendChild(el('h2', 'Data (' + d.length + ' bytes' + (d.truncated ? ', first 64 KiB shown' : '') + ', ' + (d.binary ? 'hex' : 'UTF-8') + ')'));
    box.appendChild(el('pre', d.binary ? hexDump(d.base64) : d.utf8));
    box.appendChild(el('h2', 'Stat'));
    var s = n.stat;
    box.appendChild(kvTable(Object.keys(s).map(function (k) { return [k, s[k]]; })));
    box.appendChild(el('h2', 'ACL'));
    var t = el('table');
    var hr = el('tr'); ['scheme', 'id', 'perms'].forEach(function (h) { hr.appendChild(el('th', h)); }); t.appendChild(hr);
    n.acl.forEach(function (a) {
      var tr = el('tr');
      tr.appendChild(el('td', a.scheme)); tr.appendChild(el('td', a.id)); tr.appendChild(el('td', permString(a.perms)));
      t.appendChild(tr);
    });
    box.appendChild(t);
  }).catch(function (e) { box.appendChild(el('p', 'request failed: ' + e, 'err')); });
}

function treeItem(path, name) {
  var li = el('li');
  var row = el('div', null, 'row');
  var tog = el('span', '+', 'tog');
  row.appendChild(tog);
  row.appendChild(el('span', name));
  row.dataset.path = path;
  li.appendChild(row);
  var loaded = false, open = false, sub = null;
  tog.addEventListener('click', function (ev) {
    ev.stopPropagation();
    if (open) { sub.style.display = 'none'; open = false; tog.textContent = '+'; return; }
    if (loaded) { sub.style.display = ''; open = true; tog.textContent = '-'; return; }
    getJson('node?path=' + encodeURIComponent(path)).then(function (r) {
      loaded = true;
      if (r.body.error) { tog.textContent = r.body.error === 'NoAuth' ? '!' : 'x'; row.classList.add('locked'); row.title = r.body.error; return; }
      sub = el('ul');
      r.body.children.forEach(function (c) { sub.appendChild(treeItem(childPath(path, c), c)); });
      if (!r.body.children.length) tog.textContent = ' ';
      else { tog.textContent = '-'; open = true; }
      li.appendChild(sub);
    });
  });
  row.addEventListener('click', function () { showNode(path, row); });
  return li;
}

var SERVER_KEYS = [['mode', 'server_state'], ['znodes', 'znode_count'], ['connections', 'num_alive_connections'],
  ['outstanding', 'outstanding_requests'], ['latency min', 'min_latency'], ['latency avg', 'avg_latency'],
  ['latency max', 'max_latency'], ['watches', 'watch_count'], ['zxid', 'zxid'], ['uptime (s)', 'uptime'], ['version', 'version']];
function refreshStats() {
  return getJson('stats').then(function (r) {
    var s = r.body, box = document.getElementById('server');
    clear(box); box.appendChild(el('h2', 'Server'));
    box.appendChild(kvTable(SERVER_KEYS.map(function (k) {
      var v = s[k[1]];
      return [k[0], k[1] === 'uptime' ? Math.round(v / 1000) : v];
    })));
    var w = s.watch_summary, wb = document.getElementById('watches');
    clear(wb); wb.appendChild(el('h2', 'Watches'));
    wb.appendChild(kvTable([['connections watching', w.num_connections], ['watched paths', w.num_paths], ['total watches', w.num_total_watches]]));
    document.getElementById('status').textContent = 'updated ' + new Date().toLocaleTimeString();
  });
}
var CONN_COLS = [['address', 'remote_socket_address'], ['session', 'session_id'], ['last op', 'last_operation'],
  ['queued', 'outstanding_requests'], ['recv', 'packets_received'], ['sent', 'packets_sent'],
  ['lat min', 'min_latency'], ['lat avg', 'avg_latency'], ['lat max', 'max_latency']];
function refreshConnections() {
  return getJson('connections').then(function (r) {
    var box = document.getElementById('conns');
    clear(box); box.appendChild(el('h2', 'Connections (' + r.body.connections.length + ')'));
    var t = el('table'), hr = el('tr');
    CONN_COLS.forEach(function (c) { hr.appendChild(el('th', c[0])); }); t.appendChild(hr);
    r.body.connections.forEach(function (c) {
      var tr = el('tr');
      CONN_COLS.forEach(function (col) {
        var v = c[col[1]];
        tr.appendChild(el('td', typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v));
      });
      t.appendChild(tr);
    });
    box.appendChild(t);
  });
}
function refresh() {
  Promise.all([refreshStats(), refreshConnections()]).catch(function (e) {
    document.getElementById('status').textContent = 'refresh failed: ' + e;
  });
}
var rootUl = el('ul');
document.getElementById('tree').appendChild(rootUl);
var rootLi = treeItem('/', '/');
rootUl.appendChild(rootLi);
rootLi.querySelector('.tog').click();
showNode('/', rootLi.querySelector('.row'));
refresh();
setInterval(refresh, 3000);
`;

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ZooKeeper console</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>ZooKeeper console</h1><span id="status">loading</span></header>
<main>
<section id="tree"><h2>Tree</h2></section>
<section id="node"></section>
<div id="panels" class="wide"><section id="server"><h2>Server</h2></section><section id="watches"><h2>Watches</h2></section></div>
<section id="conns" class="wide"><h2>Connections</h2></section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (s: string): string => crypto.createHash('sha256').update(s, 'utf8').digest('base64');
// Only the page's own inline style and script run; it may talk only to this server.
const PAGE_CSP = `default-src 'none'; script-src 'sha256-${sha256(SCRIPT)}'; style-src 'sha256-${sha256(STYLE)}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
