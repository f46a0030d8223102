// The console page. Plain DOM code: every server or znode string is set with textContent, never
// parsed as markup. State-changing calls carry the login's CSRF token (kept in memory only).
'use strict';
(function () {
  var API = '/console/api/';
  var csrf = null;
  var current = null; // the node shown: { path, stat, acl, data, children }
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function childPath(parent, name) { return parent === '/' ? '/' + name : parent + '/' + name; }
  function parentOf(p) { var i = p.lastIndexOf('/'); return i <= 0 ? '/' : p.slice(0, i); }

  function status(msg, isErr) {
    var s = $('status');
    s.textContent = msg;
    s.className = isErr ? 'err' : '';
  }
  function errText(body) {
    if (!body) return 'request failed';
    return body.error + (body.message ? ': ' + body.message : '');
  }

  function call(method, path, body) {
    var opts = { method: method, cache: 'no-store', credentials: 'same-origin', headers: {} };
    if (body !== undefined) {
      opts.headers['content-type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    if (method !== 'GET' && csrf) opts.headers['x-csrf-token'] = csrf;
    return fetch(API + path, opts).then(function (r) {
      return r.text().then(function (t) {
        var b = null;
        try { b = JSON.parse(t); } catch (e) { b = { error: 'HTTP ' + r.status, message: t.slice(0, 200) }; }
        if (r.status === 401 && path !== 'session') showLogin('Your login has ended; log in again.');
        return { status: r.status, ok: r.ok, body: b };
      });
    });
  }
  var get = function (p) { return call('GET', p); };
  var post = function (p, b) { return call('POST', p, b || {}); };

  // ------------------------------------------------------------ login

  function showLogin(msg) {
    csrf = null;
    $('login-error').textContent = msg || '';
    var d = $('login-dlg');
    if (!d.open) d.showModal();
    $('login-user').focus();
  }
  function loggedIn(body) {
    csrf = body.csrf;
    $('who').textContent = 'digest:' + body.user;
    $('logout').hidden = false;
    if ($('login-dlg').open) $('login-dlg').close();
    startApp();
  }
  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    $('login-submit').disabled = true;
    post('login', { user: $('login-user').value, password: $('login-password').value }).then(function (r) {
      $('login-submit').disabled = false;
      if (!r.ok) { $('login-error').textContent = errText(r.body); return; }
      $('login-password').value = '';
      loggedIn(r.body);
    });
  });
  $('login-dlg').addEventListener('cancel', function (ev) { if (!csrf) ev.preventDefault(); });
  $('logout').addEventListener('click', function () {
    post('logout').then(function () { location.reload(); });
  });

  // ------------------------------------------------------------ tree

  var treeItems = new Map(); // path -> { li, btn, sub, loaded, open }

  function treeItem(path, name) {
    var li = el('li');
    li.setAttribute('role', 'none');
    var btn = el('button', null, 'tnode');
    btn.type = 'button';
    btn.setAttribute('role', 'treeitem');
    btn.setAttribute('aria-expanded', 'false');
    btn.tabIndex = -1;
    btn.dataset.path = path;
    var tog = el('span', '+', 'tog');
    tog.setAttribute('aria-hidden', 'true');
    btn.appendChild(tog);
    btn.appendChild(el('span', name));
    li.appendChild(btn);
    var item = { li: li, btn: btn, tog: tog, sub: null, loaded: false, open: false, path: path };
    treeItems.set(path, item);
    tog.addEventListener('click', function (ev) { ev.stopPropagation(); toggle(item); });
    btn.addEventListener('click', function () { openNode(path); });
    btn.addEventListener('keydown', function (ev) { treeKey(ev, item); });
    return li;
  }

  function expand(item) {
    if (item.open) return Promise.resolve();
    if (item.loaded) {
      item.sub.hidden = false; item.open = true; item.tog.textContent = '−';
      item.btn.setAttribute('aria-expanded', 'true');
      return Promise.resolve();
    }
    return get('node?path=' + encodeURIComponent(item.path)).then(function (r) {
      if (!r.ok) {
        item.tog.textContent = '!'; item.btn.classList.add('locked'); item.btn.title = errText(r.body);
        return;
      }
      fillChildren(item, r.body.children);
    });
  }
  function fillChildren(item, children) {
    if (item.sub) item.sub.remove();
    var sub = el('ul');
    sub.setAttribute('role', 'group');
    children.forEach(function (c) { sub.appendChild(treeItem(childPath(item.path, c), c)); });
    item.li.appendChild(sub);
    item.sub = sub; item.loaded = true; item.open = true;
    item.tog.textContent = children.length ? '−' : '·';
    item.btn.setAttribute('aria-expanded', children.length ? 'true' : 'false');
  }
  function collapse(item) {
    if (!item.open || !item.sub) return;
    item.sub.hidden = true; item.open = false; item.tog.textContent = '+';
    item.btn.setAttribute('aria-expanded', 'false');
  }
  function toggle(item) { return item.open ? collapse(item) : expand(item); }

  function visibleButtons() {
    return Array.prototype.filter.call(document.querySelectorAll('#tree .tnode'), function (b) { return b.offsetParent !== null; });
  }
  function focusTree(btn) {
    document.querySelectorAll('#tree .tnode[tabindex="0"]').forEach(function (b) { b.tabIndex = -1; });
    btn.tabIndex = 0;
    btn.focus();
  }
  function treeKey(ev, item) {
    var list = visibleButtons(), i = list.indexOf(item.btn);
    if (ev.key === 'ArrowDown' && i < list.length - 1) { focusTree(list[i + 1]); ev.preventDefault(); }
    else if (ev.key === 'ArrowUp' && i > 0) { focusTree(list[i - 1]); ev.preventDefault(); }
    else if (ev.key === 'ArrowRight') { expand(item); ev.preventDefault(); }
    else if (ev.key === 'ArrowLeft') {
      if (item.open) collapse(item);
      else { var p = treeItems.get(parentOf(item.path)); if (p && item.path !== '/') focusTree(p.btn); }
      ev.preventDefault();
    } else if (ev.key === 'Home') { focusTree(list[0]); ev.preventDefault(); }
    else if (ev.key === 'End') { focusTree(list[list.length - 1]); ev.preventDefault(); }
  }

  /** Expands the tree down to `path` (as far as the user may list) and marks it current. */
  function reveal(path) {
    var parts = path === '/' ? [] : path.slice(1).split('/');
    var chain = ['/'];
    for (var i = 0; i < parts.length; i++) chain.push(childPath(chain[i], parts[i]));
    var p = Promise.resolve();
    chain.slice(0, -1).forEach(function (anc) {
      p = p.then(function () { var it = treeItems.get(anc); return it ? expand(it) : null; });
    });
    return p.then(function () {
      document.querySelectorAll('#tree .tnode[aria-current]').forEach(function (b) { b.removeAttribute('aria-current'); });
      var it = treeItems.get(path);
      if (it) {
        it.btn.setAttribute('aria-current', 'true');
        document.querySelectorAll('#tree .tnode[tabindex="0"]').forEach(function (b) { b.tabIndex = -1; });
        it.btn.tabIndex = 0;
        it.btn.scrollIntoView({ block: 'nearest' });
      }
    });
  }

  /** Re-lists a node's children in the tree after a create/delete/import. */
  function refreshChildren(path) {
    var it = treeItems.get(path);
    if (!it) return Promise.resolve();
    return get('node?path=' + encodeURIComponent(path)).then(function (r) {
      if (!r.ok) return;
      // Forget the old subtree's entries; they are rebuilt on demand.
      Array.from(treeItems.keys()).forEach(function (k) { if (k !== path && k.indexOf(path === '/' ? '/' : path + '/') === 0) treeItems.delete(k); });
      fillChildren(it, r.body.children);
    });
  }

  // ------------------------------------------------------------ node view

  var fmt = 'text';
  var chosenFmt = 'text'; // what the user picked; binary data forces hex only while it is shown
  function b64bytes(b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function hexOf(bytes) {
    var lines = [];
    for (var off = 0; off < bytes.length; off += 16) {
      var hx = [];
      for (var i = off; i < Math.min(off + 16, bytes.length); i++) hx.push((bytes[i] < 16 ? '0' : '') + bytes[i].toString(16));
      lines.push(hx.join(' '));
    }
    return lines.join('\n');
  }
  function renderData() {
    var d = current.data, ta = $('data');
    var radios = document.querySelectorAll('input[name="fmt"]');
    radios.forEach(function (r) { r.disabled = d.binary && r.value !== 'hex'; });
    if (d.binary && fmt !== 'hex') setFmt('hex', true);
    else if (!d.binary && fmt !== chosenFmt) setFmt(chosenFmt, true);
    if (fmt === 'hex') ta.value = hexOf(b64bytes(d.base64));
    else if (fmt === 'json') {
      try { ta.value = JSON.stringify(JSON.parse(d.utf8), null, 2); }
      catch (e) { ta.value = d.utf8; status('Not JSON; shown as text', true); }
    } else ta.value = d.utf8;
    ta.readOnly = d.truncated;
    $('btn-save').disabled = d.truncated;
    $('data-info').textContent = '(' + d.length + ' bytes, version ' + current.stat.version +
      (d.truncated ? ', first 64 KiB shown, read-only' : '') + (d.binary ? ', binary' : '') + ')';
    ta.classList.remove('stale');
  }
  function setFmt(v, quiet) {
    fmt = v;
    document.querySelectorAll('input[name="fmt"]').forEach(function (r) { r.checked = r.value === v; });
    if (!quiet && current) renderData();
  }
  document.querySelectorAll('input[name="fmt"]').forEach(function (r) {
    r.addEventListener('change', function () { if (r.checked) { chosenFmt = r.value; setFmt(r.value); } });
  });

  function permBox(p, bit) {
    var c = document.createElement('input');
    c.type = 'checkbox'; c.checked = (p & bit) !== 0; c.dataset.bit = String(bit);
    c.setAttribute('aria-label', { 1: 'read', 2: 'write', 4: 'create', 8: 'delete', 16: 'admin' }[bit]);
    return c;
  }
  function aclRow(a) {
    var tr = el('tr');
    [['scheme', a.scheme], ['id', a.id]].forEach(function (f) {
      var td = el('td'), inp = document.createElement('input');
      inp.type = 'text'; inp.value = f[1]; inp.dataset.field = f[0]; inp.setAttribute('aria-label', f[0]);
      td.appendChild(inp); tr.appendChild(td);
    });
    [1, 2, 4, 8, 16].forEach(function (bit) { var td = el('td'); td.appendChild(permBox(a.perms, bit)); tr.appendChild(td); });
    var td = el('td'), rm = el('button', '×');
    rm.type = 'button'; rm.title = 'Remove entry'; rm.setAttribute('aria-label', 'Remove entry');
    rm.addEventListener('click', function () { tr.remove(); });
    td.appendChild(rm); tr.appendChild(td);
    return tr;
  }
  function renderAcl() {
    var tb = $('acl').tBodies[0];
    clear(tb);
    current.acl.forEach(function (a) { tb.appendChild(aclRow(a)); });
  }
  function readAcl() {
    return Array.prototype.map.call($('acl').tBodies[0].rows, function (tr) {
      var perms = 0;
      tr.querySelectorAll('input[type="checkbox"]').forEach(function (c) { if (c.checked) perms |= Number(c.dataset.bit); });
      return { scheme: tr.querySelector('[data-field="scheme"]').value.trim(), id: tr.querySelector('[data-field="id"]').value, perms: perms };
    });
  }
  function renderStat() {
    var t = $('stat'), s = current.stat;
    clear(t);
    Object.keys(s).forEach(function (k) {
      var tr = el('tr'); tr.appendChild(el('td', k)); tr.appendChild(el('td', s[k])); t.appendChild(tr);
    });
  }

  function openNode(path) {
    $('node-error').textContent = '';
    $('node-path').textContent = path;
    $('node-pane').removeAttribute('data-loaded');
    location.hash = '#' + encodeURI(path);
    return get('node?path=' + encodeURIComponent(path)).then(function (r) {
      if (!r.ok) {
        current = null;
        $('node-error').textContent = errText(r.body);
        $('data').value = ''; clear($('stat')); clear($('acl').tBodies[0]);
        $('data-info').textContent = '';
        return reveal(path);
      }
      current = r.body;
      renderData(); renderAcl(); renderStat();
      $('node-pane').dataset.loaded = path; // what is shown is this node, fully
      var it = treeItems.get(path);
      if (it && it.loaded) fillChildren(it, current.children);
      return reveal(path);
    });
  }

  function encodeEditor() {
    var v = $('data').value;
    if (fmt === 'hex') return { data: v.replace(/\s+/g, ''), encoding: 'hex' };
    if (fmt === 'json') JSON.parse(v); // refuse to store JSON that does not parse
    return { data: v, encoding: 'utf8' };
  }

  $('btn-save').addEventListener('click', saveData);
  $('btn-refresh').addEventListener('click', function () { if (current) openNode(current.path); else openNode($('node-path').textContent); });
  function saveData() {
    if (!current) return;
    var enc;
    try { enc = encodeEditor(); } catch (e) { status('Not saved: the JSON does not parse (' + e.message + ')', true); return; }
    var v = current.stat.version;
    post('set', { path: current.path, data: enc.data, encoding: enc.encoding, version: v }).then(function (r) {
      if (!r.ok) {
        var msg = errText(r.body);
        if (r.body && r.body.error === 'BadVersion') {
          msg += ' — the node changed since it was loaded at version ' + v + '. Reload (r) to see the current data; your edit is still in the editor.';
          $('data').classList.add('stale');
        }
        $('save-note').textContent = '';
        status(msg, true);
        $('node-error').textContent = msg;
        return;
      }
      status('Saved ' + current.path + ' (now version ' + r.body.stat.version + ')');
      openNode(current.path);
    });
  }

  $('btn-acl-add').addEventListener('click', function () {
    var tr = aclRow({ scheme: 'digest', id: '', perms: 1 });
    $('acl').tBodies[0].appendChild(tr);
    tr.querySelector('input').focus();
  });
  $('btn-acl-save').addEventListener('click', function () {
    if (!current) return;
    post('acl', { path: current.path, acl: readAcl(), version: current.stat.aversion }).then(function (r) {
      if (!r.ok) { status('ACL not saved: ' + errText(r.body), true); return; }
      status('ACL of ' + current.path + ' saved (aversion ' + r.body.stat.aversion + ')');
      openNode(current.path);
    });
  });

  // ------------------------------------------------------------ create / delete

  $('btn-new').addEventListener('click', openCreate);
  function openCreate() {
    if (!current) return;
    $('create-parent').textContent = current.path;
    $('create-error').textContent = '';
    $('create-name').value = ''; $('create-data').value = '';
    $('create-dlg').showModal();
    $('create-name').focus();
  }
  function parseAclLines(text) {
    return text.split('\n').map(function (l) { return l.trim(); }).filter(Boolean).map(function (l) {
      var first = l.indexOf(':'), last = l.lastIndexOf(':');
      if (first < 0 || last === first) throw new Error('ACL line "' + l + '" is not scheme:id:perms');
      return { scheme: l.slice(0, first), id: l.slice(first + 1, last), perms: l.slice(last + 1) };
    });
  }
  $('create-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var parent = current.path, acl;
    try { acl = parseAclLines($('create-acl').value); } catch (e) { $('create-error').textContent = e.message; return; }
    var path = childPath(parent, $('create-name').value);
    post('create', { path: path, data: $('create-data').value, encoding: 'utf8', mode: $('create-mode').value, acl: acl }).then(function (r) {
      if (!r.ok) { $('create-error').textContent = errText(r.body); return; }
      $('create-dlg').close();
      status('Created ' + r.body.path);
      refreshChildren(parent).then(function () { openNode(r.body.path); });
    });
  });

  $('btn-delete').addEventListener('click', openDelete);
  function openDelete() {
    if (!current || current.path === '/') return;
    $('delete-path').textContent = current.path;
    $('delete-version').textContent = String(current.stat.version);
    $('delete-error').textContent = '';
    $('delete-dlg').showModal();
    $('delete-cancel').focus(); // the safe choice has the focus
  }
  $('delete-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var p = current.path;
    post('delete', { path: p, version: current.stat.version, confirm: p }).then(function (r) {
      if (!r.ok) { $('delete-error').textContent = errText(r.body); return; }
      $('delete-dlg').close();
      status('Deleted ' + p);
      var parent = parentOf(p);
      refreshChildren(parent).then(function () { openNode(parent); });
    });
  });
  document.querySelectorAll('dialog .cancel').forEach(function (b) {
    b.addEventListener('click', function () { b.closest('dialog').close(); });
  });

  // ------------------------------------------------------------ export / import

  $('btn-export').addEventListener('click', doExport);
  function doExport() {
    if (!current) return;
    var p = current.path;
    get('export?path=' + encodeURIComponent(p)).then(function (r) {
      if (!r.ok) { status('Export failed: ' + errText(r.body), true); return; }
      var blob = new Blob([JSON.stringify(r.body, null, 2) + '\n'], { type: 'application/json' });
      var a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = 'zk-export-' + (p === '/' ? 'root' : p.slice(1).replace(/[^A-Za-z0-9._-]+/g, '_')) + '.json';
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
      status('Exported ' + r.body.nodes.length + ' nodes under ' + p +
        (r.body.unreadable.length ? ' (' + r.body.unreadable.length + ' not readable with your identity)' : ''));
    });
  }
  $('btn-import').addEventListener('click', function () {
    if (!current) return;
    $('import-root').value = current.path;
    $('import-error').textContent = '';
    $('import-dlg').showModal();
    $('import-root').focus();
  });
  $('import-file').addEventListener('change', function () {
    var f = $('import-file').files[0];
    if (f) f.text().then(function (t) { $('import-json').value = t; });
  });
  $('import-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var doc;
    try { doc = JSON.parse($('import-json').value); } catch (e) { $('import-error').textContent = 'Not JSON: ' + e.message; return; }
    var root = $('import-root').value;
    post('import', { root: root, export: doc, overwrite: $('import-overwrite').checked }).then(function (r) {
      if (!r.ok) { $('import-error').textContent = errText(r.body); return; }
      $('import-dlg').close();
      var b = r.body;
      status('Imported into ' + root + ': ' + b.created + ' created, ' + b.updated + ' updated, ' + b.skipped + ' skipped' +
        (b.failed.length ? ', ' + b.failed.length + ' failed (first: ' + b.failed[0].path + ' ' + b.failed[0].error + ')' : ''), b.failed.length > 0);
      refreshChildren(parentOf(root)).then(function () { return refreshChildren(root); }).then(function () { openNode(root); });
    });
  });

  // ------------------------------------------------------------ search

  var results = [], resultIdx = -1, searchTimer = null;
  function renderResults(list, note) {
    var ul = $('search-results');
    clear(ul);
    results = list; resultIdx = -1;
    list.forEach(function (p, i) {
      var li = el('li', p);
      li.id = 'sr-' + i;
      li.setAttribute('role', 'option');
      li.addEventListener('mousedown', function (ev) { ev.preventDefault(); pick(i); });
      ul.appendChild(li);
    });
    if (note) { var n = el('li', note, 'muted'); n.setAttribute('role', 'presentation'); ul.appendChild(n); }
    ul.hidden = !list.length && !note;
  }
  function markResult(i) {
    resultIdx = i;
    Array.prototype.forEach.call($('search-results').children, function (li, j) { li.setAttribute('aria-selected', String(j === i)); });
    $('search').setAttribute('aria-activedescendant', i >= 0 ? 'sr-' + i : '');
  }
  function pick(i) {
    var p = results[i];
    $('search-results').hidden = true;
    $('search').blur();
    selectTab('browse');
    openNode(p).then(function () { var it = treeItems.get(p); if (it) focusTree(it.btn); });
  }
  function runSearch() {
    var q = $('search').value.trim();
    if (!q) { renderResults([]); return; }
    get('search?path=/&q=' + encodeURIComponent(q)).then(function (r) {
      // Stale, or the user has moved on (picked a path, left the box): show nothing.
      if (q !== $('search').value.trim() || document.activeElement !== $('search')) return;
      if (!r.ok) { renderResults([], errText(r.body)); return; }
      renderResults(r.body.matches, r.body.matches.length ? (r.body.truncated ? 'more not shown' : null) : 'no match');
    });
  }
  $('search').addEventListener('input', function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 200);
  });
  $('search').addEventListener('keydown', function (ev) {
    if (ev.key === 'ArrowDown' && results.length) { markResult(Math.min(resultIdx + 1, results.length - 1)); ev.preventDefault(); }
    else if (ev.key === 'ArrowUp' && results.length) { markResult(Math.max(resultIdx - 1, 0)); ev.preventDefault(); }
    else if (ev.key === 'Escape') { $('search-results').hidden = true; $('search').blur(); }
  });
  $('search-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    clearTimeout(searchTimer);
    var q = $('search').value.trim();
    if (resultIdx >= 0) pick(resultIdx);
    else if (q.charAt(0) === '/') { $('search-results').hidden = true; $('search').blur(); selectTab('browse'); openNode(q); }
    else if (results.length) pick(0);
  });
  $('search').addEventListener('blur', function () { setTimeout(function () { $('search-results').hidden = true; }, 150); });

  // ------------------------------------------------------------ tabs and shortcuts

  var TABS = ['browse', 'metrics', 'ensemble', 'conns'];
  function selectTab(name) {
    TABS.forEach(function (t) {
      var on = t === name;
      $('tab-' + t).setAttribute('aria-selected', String(on));
      $('tab-' + t).tabIndex = on ? 0 : -1;
      $('view-' + t).hidden = !on;
    });
    if (name === 'ensemble') refreshEnsemble();
    if (name === 'conns') refreshConnections();
    if (name === 'metrics') drawAll();
  }
  TABS.forEach(function (t, i) {
    $('tab-' + t).addEventListener('click', function () { selectTab(t); });
    $('tab-' + t).addEventListener('keydown', function (ev) {
      var d = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
      if (d) { var n = TABS[(i + d + TABS.length) % TABS.length]; selectTab(n); $('tab-' + n).focus(); }
    });
  });
  $('help-btn').addEventListener('click', function () { $('help-dlg').showModal(); });

  document.addEventListener('keydown', function (ev) {
    if (document.querySelector('dialog[open]')) return;
    var t = ev.target, typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
    if ((ev.ctrlKey || ev.metaKey) && ev.key === 's') { ev.preventDefault(); saveData(); return; }
    if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var browsing = !$('view-browse').hidden;
    switch (ev.key) {
      case '/': ev.preventDefault(); $('search').focus(); $('search').select(); break;
      case '?': $('help-dlg').showModal(); break;
      case '1': case '2': case '3': case '4': selectTab(TABS[Number(ev.key) - 1]); break;
      case 'n': if (browsing) { ev.preventDefault(); openCreate(); } break;
      case 'r': if (browsing) $('btn-refresh').click(); break;
      case 'x': if (browsing) doExport(); break;
      case 'i': if (browsing) $('btn-import').click(); break;
      case 'Delete': if (browsing) openDelete(); break;
    }
  });

  // ------------------------------------------------------------ charts

  var HISTORY = 120;
  var samples = [];
  var CHARTS = [
    { id: 'rate', title: 'Requests / s', series: [{ key: 'rate', label: 'requests/s', color: '#00897b' }] },
    { id: 'latency', title: 'Latency percentiles (ms)', series: [
      { key: 'read_p50', label: 'read p50', color: '#26a69a' }, { key: 'read_p99', label: 'read p99', color: '#00695c' },
      { key: 'write_p50', label: 'write p50', color: '#ffa726' }, { key: 'write_p99', label: 'write p99', color: '#e65100' }] },
    { id: 'outstanding', title: 'Outstanding requests', series: [{ key: 'outstanding_requests', label: 'outstanding', color: '#5c6bc0' }] },
    { id: 'connections', title: 'Connections', series: [{ key: 'connections', label: 'connections', color: '#8e24aa' }] },
    { id: 'sessions', title: 'Sessions', series: [{ key: 'sessions', label: 'sessions', color: '#3949ab' }] },
    { id: 'watches', title: 'Watches', series: [{ key: 'watches', label: 'watches', color: '#6d4c41' }] },
  ];
  CHARTS.forEach(function (c) {
    var box = el('div', null, 'chart');
    box.id = 'chart-' + c.id;
    var h = el('h2', c.title);
    c.valEl = el('span', '–', 'val');
    h.appendChild(c.valEl);
    box.appendChild(h);
    c.canvas = document.createElement('canvas');
    c.canvas.setAttribute('role', 'img');
    c.canvas.setAttribute('aria-label', c.title);
    box.appendChild(c.canvas);
    if (c.series.length > 1) {
      var lg = el('div', null, 'legend');
      c.series.forEach(function (s) { var sp = el('span', s.label); sp.style.setProperty('--c', s.color); lg.appendChild(sp); });
      box.appendChild(lg);
    }
    $('charts').appendChild(box);
  });
  function fmtNum(v) { return v >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(2); }
  function drawChart(c) {
    var cv = c.canvas, w = cv.clientWidth, h = cv.clientHeight;
    if (!w || !h) return;
    var dpr = window.devicePixelRatio || 1;
    if (cv.width !== Math.round(w * dpr)) { cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr); }
    var g = cv.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    var max = 1;
    samples.forEach(function (s) { c.series.forEach(function (se) { var v = s[se.key]; if (typeof v === 'number' && v > max) max = v; }); });
    max = max * 1.15;
    var left = 36, bottom = h - 14, top = 10, span = w - left - 4;
    g.strokeStyle = '#eceff1'; g.fillStyle = '#90a4ae'; g.font = '10px sans-serif'; g.lineWidth = 1;
    [0, 0.5, 1].forEach(function (f) {
      var y = bottom - f * (bottom - top);
      g.beginPath(); g.moveTo(left, y); g.lineTo(w - 4, y); g.stroke();
      g.fillText(fmtNum(max * f), 2, y + 3);
    });
    g.fillText('−' + HISTORY + ' s', left, h - 2);
    g.fillText('now', w - 24, h - 2);
    c.series.forEach(function (se) {
      g.strokeStyle = se.color; g.lineWidth = 1.5; g.beginPath();
      var started = false;
      samples.forEach(function (s, i) {
        var v = s[se.key];
        if (typeof v !== 'number') return;
        var x = left + span * (HISTORY - samples.length + i) / (HISTORY - 1);
        var y = bottom - (v / max) * (bottom - top);
        if (!started) { g.moveTo(x, y); started = true; } else g.lineTo(x, y);
      });
      g.stroke();
    });
  }
  function drawAll() { CHARTS.forEach(drawChart); }
  function sampleMetrics() {
    return get('metrics').then(function (r) {
      if (!r.ok) return;
      var s = r.body, prev = samples[samples.length - 1];
      if (prev) {
        var dt = (s.t - prev.t) / 1000;
        s.rate = dt > 0 ? Math.max(0, (s.requests - prev.requests) / dt) : 0;
      }
      samples.push(s);
      if (samples.length > HISTORY) samples.shift();
      $('mode').textContent = s.server_state;
      CHARTS.forEach(function (c) {
        var v = s[c.series[c.series.length - 1].key];
        if (c.id === 'latency') v = Math.max(s.read_p99, s.write_p99);
        if (typeof v === 'number') {
          c.valEl.textContent = fmtNum(v);
          c.canvas.dataset.last = String(v);
          var peak = Number(c.canvas.dataset.peak || 0);
          if (v > peak) c.canvas.dataset.peak = String(v);
        }
      });
      if (!$('view-metrics').hidden) drawAll();
    });
  }

  // ------------------------------------------------------------ ensemble and connections

  function refreshEnsemble() {
    return get('ensemble').then(function (r) {
      if (!r.ok) { $('ensemble-summary').textContent = errText(r.body); return; }
      var e = r.body, tb = $('ensemble').tBodies[0];
      $('ensemble-summary').textContent = e.standalone
        ? 'Standalone server (no ensemble configured): one member.'
        : 'Ensemble of ' + e.members.length + ' · this member: ' + e.myid + ' · leader: ' + (e.leaderId === null ? 'none (electing)' : e.leaderId) + ' · zab state: ' + e.zabState;
      clear(tb);
      e.members.forEach(function (m) {
        var tr = el('tr');
        [m.sid + (m.self ? ' (this)' : ''), m.role === null ? 'unknown' : m.role, m.type, m.address, m.clientAddress || '–',
          m.zxid || '–', m.lag === null ? '–' : m.lag, m.source + (m.error ? ' (' + m.error + ')' : '')].forEach(function (v) { tr.appendChild(el('td', v)); });
        tb.appendChild(tr);
      });
    });
  }
  var CONN_COLS = [['address', 'remote_socket_address'], ['session', 'session_id'], ['last op', 'last_operation'],
    ['queued', 'outstanding_requests'], ['recv', 'packets_received'], ['sent', 'packets_sent'],
    ['lat min', 'min_latency'], ['lat avg', 'avg_latency'], ['lat max', 'max_latency']];
  function refreshConnections() {
    return get('connections').then(function (r) {
      if (!r.ok) return;
      var t = $('conns'), hr = el('tr');
      clear(t.tHead); clear(t.tBodies[0]);
      CONN_COLS.forEach(function (c) { hr.appendChild(el('th', c[0])); });
      t.tHead.appendChild(hr);
      r.body.connections.forEach(function (c) {
        var tr = el('tr');
        CONN_COLS.forEach(function (col) {
          var v = c[col[1]];
          tr.appendChild(el('td', typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v));
        });
        t.tBodies[0].appendChild(tr);
      });
    });
  }

  // ------------------------------------------------------------ start

  var started = false;
  function startApp() {
    if (started) return;
    started = true;
    var rootLi = treeItem('/', '/');
    $('tree').appendChild(rootLi);
    treeItems.get('/').btn.tabIndex = 0;
    var start = location.hash.length > 1 ? decodeURI(location.hash.slice(1)) : '/';
    expand(treeItems.get('/')).then(function () { return openNode(start); });
    sampleMetrics();
    setInterval(function () {
      sampleMetrics();
      if (!$('view-ensemble').hidden) refreshEnsemble();
      if (!$('view-conns').hidden) refreshConnections();
    }, 1000);
    window.addEventListener('resize', drawAll);
  }

  get('session').then(function (r) {
    if (r.ok) loggedIn(r.body);
    else showLogin();
  });
})();
