// The web console end to end in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) against a real server over real sockets: log in with a digest identity,
// browse, view data as text/JSON/hex, create, an edit refused for a stale version, an ACL edit a
// real client then feels, delete after confirmation, export/import round trip, a chart moving under
// a bounded load, and the ensemble view. Screenshots go to test-artifacts/console/.
// It never skips: CI installs chromium, and a missing browser is a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { startServer } from '../support/OurServer.js';
import { ZooKeeper, Perm, type ACL } from '../../src/client/index.js';
import { digestId } from '../../src/auth/AuthProviders.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts', 'console');
const OPEN: ACL[] = [{ perms: Perm.ALL, id: { scheme: 'world', id: 'anyone' } }];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: false });
}

/** Opens a node through the search box, as a keyboard user would: '/', type the path, Enter. */
async function goTo(page: Page, p: string): Promise<void> {
  await page.locator('body').press('Escape');
  await page.keyboard.press('/');
  await page.locator('#search').fill(p);
  await page.locator('#search').press('Enter');
  await until(`node ${p} shown`, async () => (await page.locator('#node-pane').getAttribute('data-loaded')) === p);
}

test('console in Chromium: login, browse, create, stale edit refused, ACL, delete, export/import, live chart, ensemble', { timeout: 120_000 }, async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is required for the console browser test (CI installs Debian's chromium)`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const srv = await startServer({ adminEnableServer: true, adminServerAddress: '127.0.0.1', adminServerPort: 0 });
  const base = `http://127.0.0.1:${srv.server.admin!.port}/console/`;
  const anon = await ZooKeeper.connect(srv.connectString);
  const alice = await ZooKeeper.connect(srv.connectString);
  await alice.addAuth('digest', 'alice:secret');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    await anon.create('/app', Buffer.from('app root'), { acl: OPEN });
    await anon.create('/app/config', Buffer.from('{"replicas":3,"name":"svc"}'), { acl: OPEN });
    await anon.create('/app/blob', Buffer.from([0, 1, 2, 0xfe, 0xff]), { acl: OPEN });
    await anon.create('/<img src=x id=pwned>', Buffer.from('<b id="bold">markup</b>'), { acl: OPEN });
    await alice.create('/secret', Buffer.from('for alice only'), { acl: [{ perms: Perm.ALL, id: { scheme: 'digest', id: digestId('alice:secret') } }] });

    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
    const page = await ctx.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(base);

    // -- login: the dialog comes first; the cookie is HttpOnly (the page's script cannot see it)
    await page.locator('#login-dlg[open]').waitFor();
    await page.locator('#login-user').fill('alice');
    await page.locator('#login-password').fill('secret');
    await shot(page, '01-login.png');
    await page.locator('#login-password').press('Enter');
    await page.locator('#login-dlg').waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#who').textContent(), 'digest:alice');
    assert.equal(await page.evaluate(() => document.cookie), '', 'login cookie is HttpOnly');
    const cookies = await ctx.cookies();
    assert.equal(cookies.length, 1);
    assert.equal(cookies[0]!.httpOnly, true);
    assert.equal(cookies[0]!.sameSite, 'Strict');

    // -- browse: the tree lists the root's children; alice's identity reads /secret
    await until('root children', async () => (await page.locator('#tree .tnode').allTextContents()).some((t) => t.includes('app')));
    // Znode names and data reach the page as text, never as markup.
    await until('markup-named node listed', async () => (await page.locator('#tree .tnode').allTextContents()).some((t) => t.includes('<img src=x id=pwned>')));
    await goTo(page, '/<img src=x id=pwned>');
    assert.equal(await page.locator('#data').inputValue(), '<b id="bold">markup</b>');
    assert.equal(await page.locator('#pwned, #bold').count(), 0);
    await goTo(page, '/secret');
    assert.equal(await page.locator('#data').inputValue(), 'for alice only');
    await goTo(page, '/app/config');
    assert.equal(await page.locator('#data').inputValue(), '{"replicas":3,"name":"svc"}');
    await page.locator('input[name="fmt"][value="json"]').check();
    assert.equal(await page.locator('#data').inputValue(), '{\n  "replicas": 3,\n  "name": "svc"\n}');
    await shot(page, '02-browse-json.png');
    await goTo(page, '/app/blob');
    assert.equal(await page.locator('#data').inputValue(), '00 01 02 fe ff', 'binary data is shown as hex');
    assert.equal(await page.locator('input[name="fmt"][value="text"]').isDisabled(), true);

    // -- create a child with the keyboard shortcut
    await goTo(page, '/app');
    await page.locator('#tree .tnode[aria-current="true"]').focus();
    await page.keyboard.press('n');
    await page.locator('#create-dlg[open]').waitFor();
    await page.locator('#create-name').fill('made');
    await page.locator('#create-data').fill('made in the browser');
    await page.locator('#create-ok').click();
    await until('created node shown', async () => (await page.locator('#node-path').textContent()) === '/app/made' && (await page.locator('#data').inputValue()) === 'made in the browser');
    assert.equal((await anon.getData('/app/made')).data!.toString(), 'made in the browser');

    // -- edit with a stale version: another client writes first; the save is refused with BadVersion
    await page.locator('input[name="fmt"][value="text"]').check();
    await anon.setData('/app/made', Buffer.from('changed by another client'), 0);
    await page.locator('#data').fill('my stale edit');
    await page.locator('#btn-save').click();
    await until('BadVersion shown', async () => (await page.locator('#status').textContent())!.includes('BadVersion'));
    assert.match((await page.locator('#node-error').textContent())!, /BadVersion/);
    assert.equal((await anon.getData('/app/made')).data!.toString(), 'changed by another client', 'stale edit not applied');
    await shot(page, '03-stale-edit-refused.png');
    // Reload, edit again: now it goes through with the current version.
    await page.locator('#btn-refresh').click();
    await until('reloaded', async () => (await page.locator('#data').inputValue()) === 'changed by another client');
    await page.locator('#data').fill('edited in the browser');
    await page.locator('#data').press('Control+s');
    await until('saved', async () => (await page.locator('#status').textContent())!.includes('now version 2'));
    assert.equal((await anon.getData('/app/made')).data!.toString(), 'edited in the browser');

    // -- ACL edit: world keeps only read, alice gets everything; a real anonymous client is refused writes
    const rows = page.locator('#acl tbody tr');
    assert.equal(await rows.count(), 1);
    for (const perm of ['write', 'create', 'delete', 'admin']) await rows.nth(0).locator(`input[aria-label="${perm}"]`).uncheck();
    await page.locator('#btn-acl-add').click();
    await rows.nth(1).locator('input[data-field="scheme"]').fill('digest');
    await rows.nth(1).locator('input[data-field="id"]').fill(digestId('alice:secret'));
    for (const perm of ['write', 'create', 'delete', 'admin']) await rows.nth(1).locator(`input[aria-label="${perm}"]`).check();
    await page.locator('#btn-acl-save').click();
    await until('ACL saved', async () => (await page.locator('#status').textContent())!.includes('aversion 1'));
    const { acl } = await alice.getACL('/app/made'); // with ADMIN: the digest hash unmasked
    assert.deepEqual(acl, [
      { perms: Perm.READ, id: { scheme: 'world', id: 'anyone' } },
      { perms: Perm.ALL, id: { scheme: 'digest', id: digestId('alice:secret') } },
    ]);
    await assert.rejects(anon.setData('/app/made', Buffer.from('anon'), -1), (e: Error) => e.name === 'NoAuth');
    await alice.setData('/app/made', Buffer.from('alice may'), -1);
    await shot(page, '04-acl-edited.png');

    // -- delete, after a confirmation dialog whose default focus is Cancel
    await page.locator('#btn-refresh').click();
    await until('reloaded', async () => (await page.locator('#data').inputValue()) === 'alice may');
    await page.locator('#btn-refresh').focus();
    await page.keyboard.press('Delete');
    await page.locator('#delete-dlg[open]').waitFor();
    assert.equal(await page.locator('#delete-path').textContent(), '/app/made');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'delete-cancel');
    await shot(page, '05-delete-confirm.png');
    await page.keyboard.press('Escape');
    await page.locator('#delete-dlg').waitFor({ state: 'hidden' });
    assert.ok(await anon.exists('/app/made'), 'cancel keeps the node');
    await page.locator('#btn-delete').click();
    await page.locator('#delete-ok').click();
    await until('deleted', async () => (await page.locator('#status').textContent())!.includes('Deleted /app/made'));
    assert.equal(await anon.exists('/app/made'), null);

    // -- export /app, import it under /copy, compare through a real client
    await goTo(page, '/app');
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('x')]);
    const exported = JSON.parse(fs.readFileSync((await download.path())!, 'utf8'));
    fs.writeFileSync(path.join(ARTIFACTS, 'export-app.json'), JSON.stringify(exported, null, 2));
    assert.equal(exported.root, '/app');
    assert.deepEqual(exported.nodes.map((n: { path: string }) => n.path), ['', '/blob', '/config']);
    await page.keyboard.press('i');
    await page.locator('#import-dlg[open]').waitFor();
    await page.locator('#import-root').fill('/copy');
    await page.locator('#import-json').fill(JSON.stringify(exported));
    await page.locator('#import-ok').click();
    await until('imported', async () => (await page.locator('#status').textContent())!.includes('3 created'));
    for (const [p, q] of [['/app', '/copy'], ['/app/blob', '/copy/blob'], ['/app/config', '/copy/config']] as const) {
      assert.deepEqual((await anon.getData(q)).data, (await anon.getData(p)).data, q);
      assert.deepEqual((await anon.getACL(q)).acl, (await anon.getACL(p)).acl, q);
    }

    // -- live chart under a bounded load (2000 reads in batches)
    await page.keyboard.press('2');
    await page.locator('#view-metrics').waitFor();
    await until('first samples', async () => (await page.locator('#chart-rate canvas').getAttribute('data-last')) !== null);
    const before = Number(await page.locator('#chart-rate canvas').getAttribute('data-peak') ?? 0);
    for (let i = 0; i < 20; i++) {
      await Promise.all(Array.from({ length: 100 }, () => anon.getData('/app/config')));
      await sleep(50);
    }
    const peak = await until('request rate chart rises', async () => {
      const v = Number(await page.locator('#chart-rate canvas').getAttribute('data-peak') ?? 0);
      return v > before + 50 ? v : null;
    });
    assert.ok(peak > 50, `peak ${peak} requests/s`);
    assert.ok(Number(await page.locator('#chart-connections canvas').getAttribute('data-last')) >= 2, 'both test clients and the console session connected');
    assert.ok(Number(await page.locator('#chart-sessions canvas').getAttribute('data-last')) >= 3);
    await sleep(1200);
    await shot(page, '06-metrics-under-load.png');

    // -- ensemble view: a standalone server is one member with its zxid
    await page.keyboard.press('3');
    await until('ensemble row', async () => (await page.locator('#ensemble tbody tr').count()) === 1);
    const cells = await page.locator('#ensemble tbody tr td').allTextContents();
    assert.equal(cells[1], 'standalone');
    assert.match(cells[5]!, /^0x[0-9a-f]+$/);
    assert.match((await page.locator('#ensemble-summary').textContent())!, /Standalone/);
    await shot(page, '07-ensemble.png');

    assert.deepEqual(pageErrors, [], 'no script errors on the page');
  } catch (e) {
    // What the page showed when it went wrong, for the CI log and the artefacts.
    for (const p of browser.contexts().flatMap((c) => c.pages())) {
      await shot(p, 'failure.png').catch(() => {});
      const said = await p.evaluate(() => ['status', 'node-error', 'create-error', 'delete-error', 'import-error', 'login-error'].map((id) => `${id}: ${document.getElementById(id)?.textContent}`).join('\n')).catch(() => '');
      console.error(said);
    }
    throw e;
  } finally {
    await browser.close();
    await anon.close();
    await alice.close();
    await srv.stop();
  }
});
