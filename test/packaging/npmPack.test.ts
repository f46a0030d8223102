// The npm package as a user gets it: `npm pack`, check what the tarball holds, then a CommonJS
// and an ES-module consumer project each install it (offline, from npm's cache; or, when the cache
// lacks the dependencies, by unpacking it as npm would and linking ours), run the client and a
// recipe against the server started through the installed `zk-server` bin, and type-check with
// tsc against the declarations the `exports` map hands each of them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fourLetterWord, freePort, makeTempDir } from '../support/ServerProcess.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TSC = path.join(REPO, 'node_modules/typescript/bin/tsc');
const PKG = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, Record<string, string>>>;
  dependencies: Record<string, string>;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], opts: SpawnSyncOptions & { what: string }) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 180000, ...opts });
  assert.equal(r.status, 0, `${opts.what} failed (${r.status ?? r.signal}):\n${String(r.stdout ?? '')}\n${String(r.stderr ?? '')}`);
  return { stdout: String(r.stdout), stderr: String(r.stderr) };
}

interface PackedFile {
  path: string;
  size: number;
  mode: number;
}

let work: string;
let tarball: string;
let packed: { files: PackedFile[]; size: number; unpackedSize: number; entryCount: number };
let server: ChildProcess | null = null;
let serverExit: Promise<number | null>;
let serverOut = '';
let port: number;
const installs: string[] = [];

/** A consumer project with the tarball installed in node_modules. */
function install(dir: string): void {
  const r = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', tarball], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120000,
  });
  if (r.status === 0) {
    installs.push(`${path.basename(dir)}: npm install --offline`);
    return;
  }
  // No network and the dependencies are not in npm's cache (a CI runner whose cache was not
  // kept): install the way npm lays it out, the tarball unpacked, its dependencies from ours.
  assert.match(String(r.stderr), /ENOTCACHED|offline|network/i, `npm install failed for another reason:\n${r.stderr}`);
  const target = path.join(dir, 'node_modules', PKG.name);
  fs.mkdirSync(target, { recursive: true });
  run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1'], { what: 'tar -x' });
  for (const dep of Object.keys(PKG.dependencies)) {
    fs.symlinkSync(fs.realpathSync(path.join(REPO, 'node_modules', dep)), path.join(dir, 'node_modules', dep));
  }
  const bin = path.join(dir, 'node_modules', '.bin');
  fs.mkdirSync(bin);
  for (const [name, file] of Object.entries(PKG.bin)) fs.symlinkSync(path.join('..', PKG.name, file), path.join(bin, name));
  installs.push(`${path.basename(dir)}: unpacked (dependencies not in npm's offline cache)`);
}

function tsconfig(module: 'Node16' | 'NodeNext' | 'CommonJS'): string {
  return JSON.stringify({
    compilerOptions: {
      module,
      // CommonJS: the pre-`exports` resolution (node10) older projects still use, which reads
      // `types` and `typesVersions` instead of the exports map.
      moduleResolution: module === 'CommonJS' ? 'Node10' : module,
      // Our declarations default-import node modules (node16 implies this; node10 projects set it).
      esModuleInterop: true,
      target: 'ES2022',
      strict: true,
      noEmit: true,
      lib: ['ES2022', 'ESNext.Disposable'],
      types: ['node'],
      typeRoots: [path.join(REPO, 'node_modules/@types')],
    },
    include: ['*.ts', '*.mts', '*.cts'],
  });
}

/** Type-checks a consumer and returns the declaration files of our package tsc read. */
function typecheck(dir: string, project = '.'): string[] {
  const { stdout } = run(process.execPath, [TSC, '-p', project, '--listFiles'], { cwd: dir, what: `tsc -p ${project} in ${path.basename(dir)}` });
  return stdout
    .split('\n')
    .filter((f) => f.includes(`node_modules/${PKG.name}/`))
    .map((f) => f.slice(f.indexOf(`node_modules/${PKG.name}/`) + `node_modules/${PKG.name}/`.length));
}

// The same calls in both module systems, so each build is shown to work, not just to load.
const EXERCISE = `
  const zk = await ZooKeeper.connect(connectString, { sessionTimeout: 10000 });
  try {
    const created = await zk.create(node, Buffer.from(text));
    const { data } = await zk.getData(created);
    let missing = '';
    try { await zk.getData(node + '/none'); } catch (e) { missing = e instanceof NoNodeError && e instanceof root.ZooKeeperError ? e.constructor.name : String(e); }
    const mutex = new Mutex(zk, node + '-lock');
    await mutex.acquire();
    const held = mutex.isHeld;
    await mutex.release();
    console.log(JSON.stringify({ data: data.toString(), missing, held, server: typeof root.ZkServer }));
  } finally {
    await zk.close();
  }
`;

const CHECK_TS = (from: string) => `
import { ZooKeeper, NoNodeError, ExponentialBackoffRetry, type Stat, type ZooKeeperOptions } from '${from}/client';
import { Mutex, LeaderLatch, type LockGuard } from '${from}/recipes';
import { ZkServer, defaultConfig } from '${from}';

export async function demo(zk: ZooKeeper): Promise<Stat> {
  const options: ZooKeeperOptions = { retryPolicy: new ExponentialBackoffRetry(100, 5) };
  void options;
  await using guard: LockGuard = await new Mutex(zk, '/lock').lock({ timeoutMs: 1000 });
  void guard.path;
  void new LeaderLatch(zk, '/leader');
  void new ZkServer(defaultConfig({ dataDir: '/tmp/x' }));
  // @ts-expect-error the path must be a string: proves the declarations are real, not 'any'
  await zk.create(42);
  const err: unknown = null;
  if (err instanceof NoNodeError) void err.code;
  return zk.setData('/a', Buffer.from('b'));
}
`;

describe('npm package', () => {
  before(async () => {
    work = makeTempDir('zk-pack-');
    // The test run has compiled dist/src (tsc -p .); the CommonJS half is built here, as
    // `npm pack`'s prepack would (npm pack --ignore-scripts below keeps the two builds apart).
    run(process.execPath, [TSC, '-p', 'tsconfig.cjs.json'], { cwd: REPO, what: 'tsc -p tsconfig.cjs.json' });
    run(process.execPath, ['scripts/copy-console-assets.mjs'], { cwd: REPO, what: 'scripts/copy-console-assets.mjs' });
    run(process.execPath, ['scripts/build-package.mjs'], { cwd: REPO, what: 'scripts/build-package.mjs' });
    const { stdout } = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO, what: 'npm pack' });
    const info = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ filename: string; files: PackedFile[]; size: number; unpackedSize: number; entryCount: number }];
    packed = info[0];
    tarball = path.join(work, info[0].filename);
    assert.ok(fs.existsSync(tarball));
  });

  after(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await serverExit;
    }
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('the tarball holds the builds, types, bins, LICENSE and docs, and no tests, benches or sources', () => {
    const paths = packed.files.map((f) => f.path);
    const has = new Set(paths);
    const consoleFiles = fs.readdirSync(path.join(REPO, 'src/server/console/static')).map((f) => `dist/src/server/console/static/${f}`);
    assert.ok(consoleFiles.length >= 3, 'the web console has static files');
    for (const p of ['package.json', 'LICENSE', 'README.md', 'conf/zoo.cfg', 'deploy/docker/docker-entrypoint.sh', 'dist/cjs/package.json', ...consoleFiles]) {
      assert.ok(has.has(p), `${p} in the tarball`);
    }
    // Every target of the exports map is there.
    for (const [key, value] of Object.entries(PKG.exports)) {
      const targets = typeof value === 'string' ? [value] : Object.values(value).flatMap((c) => Object.values(c));
      for (const t of targets) assert.ok(has.has(t.replace(/^\.\//, '')), `exports['${key}'] → ${t} in the tarball`);
    }
    // Bins: present, executable, starting with a node shebang.
    for (const [name, file] of Object.entries(PKG.bin)) {
      const f = packed.files.find((x) => x.path === file);
      assert.ok(f, `bin ${name} (${file}) in the tarball`);
      assert.equal(f.mode & 0o111, 0o111, `bin ${name} is executable (mode ${f.mode.toString(8)})`);
      assert.match(fs.readFileSync(path.join(REPO, file), 'utf8'), /^#!\/usr\/bin\/env (-S ([A-Z_]+=\S+ )*node [^\n]+|node)\n/, `bin ${name} has a node shebang`);
    }
    const unwanted = paths.filter((p) => /^(test|bench|src|scripts|\.ci)\//.test(p) || /^dist\/(test|bench)\//.test(p) || /\/sim\//.test(p) || /\.map$/.test(p) || /\.test\.(js|d\.ts)$/.test(p));
    assert.deepEqual(unwanted, [], 'no tests, benches, simulation, sources or source maps');
    const license = fs.readFileSync(path.join(REPO, 'LICENSE'), 'utf8');
    assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
    assert.match(license, /END OF TERMS AND CONDITIONS/);
    console.log(`# tarball: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${packed.entryCount} files`);
  });

  test('a CommonJS and an ES-module consumer install the tarball, run the client, and type-check', async () => {
    const cjs = path.join(work, 'consumer-cjs');
    const esm = path.join(work, 'consumer-esm');
    fs.mkdirSync(cjs);
    fs.mkdirSync(esm);
    fs.writeFileSync(path.join(cjs, 'package.json'), JSON.stringify({ name: 'consumer-cjs', version: '1.0.0', private: true }));
    fs.writeFileSync(path.join(esm, 'package.json'), JSON.stringify({ name: 'consumer-esm', version: '1.0.0', private: true, type: 'module' }));
    install(cjs);
    install(esm);
    console.log(`# installs: ${installs.join('; ')}`);

    // The server, through the installed bin: the shebang and the executable bit are what npx uses.
    port = await freePort();
    const data = path.join(work, 'data');
    fs.mkdirSync(data);
    const cfg = path.join(work, 'zoo.cfg');
    const adminPort = await freePort();
    fs.writeFileSync(
      cfg,
      `tickTime=2000\ndataDir=${data}\nclientPort=${port}\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=ruok\n` +
        `admin.enableServer=true\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=${adminPort}\n`,
    );
    server = spawn(path.join(esm, 'node_modules/.bin/zk-server'), ['start-foreground', cfg], { cwd: esm, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (d) => (serverOut += d));
    server.stderr!.on('data', (d) => (serverOut += d));
    serverExit = new Promise((resolve) => server!.on('exit', (code) => resolve(code)));
    let answer = '';
    for (let i = 0; i < 300 && answer !== 'imok'; i++) {
      answer = await fourLetterWord('127.0.0.1', port, 'ruok', 1000).catch(() => '');
      if (answer !== 'imok') await sleep(100);
    }
    assert.equal(answer, 'imok', `installed zk-server did not come up:\n${serverOut}`);
    // The installed package serves the web console's page: its static files were packed.
    const page: Response = await fetch(`http://127.0.0.1:${adminPort}/console/`);
    assert.equal(page.status, 200, 'GET /console/ from the installed package');
    assert.match(await page.text(), /<html/i);
    const script: Response = await fetch(`http://127.0.0.1:${adminPort}/console/static/console.js`);
    assert.equal(script.status, 200, 'GET /console/static/console.js from the installed package');

    const connect = `127.0.0.1:${port}`;
    fs.writeFileSync(
      path.join(cjs, 'index.js'),
      `const { ZooKeeper, NoNodeError } = require('${PKG.name}/client');
const { Mutex } = require('${PKG.name}/recipes');
const root = require('${PKG.name}');
const [connectString, node, text] = process.argv.slice(2);
(async () => {${EXERCISE}})().catch((e) => { console.error(e); process.exit(1); });
`,
    );
    fs.writeFileSync(
      path.join(esm, 'index.js'),
      `import { ZooKeeper, NoNodeError } from '${PKG.name}/client';
import { Mutex } from '${PKG.name}/recipes';
import * as root from '${PKG.name}';
const [connectString, node, text] = process.argv.slice(2);
${EXERCISE}
`,
    );
    for (const [dir, kind] of [[cjs, 'cjs'], [esm, 'esm']] as const) {
      const { stdout } = run(process.execPath, ['index.js', connect, `/${kind}`, `hello from ${kind}`], { cwd: dir, what: `${kind} consumer` });
      assert.deepEqual(JSON.parse(stdout.trim()), { data: `hello from ${kind}`, missing: 'NoNodeError', held: true, server: 'function' }, `${kind} consumer`);
    }

    // npx finds the bin in the project.
    const v = run('npx', ['--no-install', 'zk-server', 'version'], { cwd: cjs, what: 'npx zk-server version' });
    assert.match(v.stdout, new RegExp(`version ${PKG.version.replace(/\./g, '\\.')}`));

    // Types: each module system gets its own declarations through the exports map.
    fs.writeFileSync(path.join(cjs, 'tsconfig.json'), tsconfig('Node16'));
    fs.writeFileSync(path.join(cjs, 'check.ts'), CHECK_TS(PKG.name));
    fs.writeFileSync(path.join(esm, 'tsconfig.json'), tsconfig('NodeNext'));
    fs.writeFileSync(path.join(esm, 'check.ts'), CHECK_TS(PKG.name));
    const cjsDecls = typecheck(cjs);
    const esmDecls = typecheck(esm);
    for (const entry of ['index.d.ts', 'client/index.d.ts', 'recipes/index.d.ts']) {
      assert.ok(cjsDecls.includes(`dist/cjs/${entry}`), `CommonJS consumer reads dist/cjs/${entry}`);
      assert.ok(esmDecls.includes(`dist/src/${entry}`), `ESM consumer reads dist/src/${entry}`);
    }
    assert.ok(!cjsDecls.some((f) => f.startsWith('dist/src/')), 'CommonJS consumer reads no ESM declarations');
    assert.ok(!esmDecls.some((f) => f.startsWith('dist/cjs/')), 'ESM consumer reads no CommonJS declarations');
    fs.mkdirSync(path.join(cjs, 'node10'));
    fs.writeFileSync(path.join(cjs, 'node10', 'tsconfig.json'), tsconfig('CommonJS'));
    fs.writeFileSync(path.join(cjs, 'node10', 'check.ts'), CHECK_TS(PKG.name));
    const node10Decls = typecheck(cjs, 'node10');
    for (const entry of ['index.d.ts', 'client/index.d.ts', 'recipes/index.d.ts']) {
      assert.ok(node10Decls.includes(`dist/cjs/${entry}`), `node10 resolution reads dist/cjs/${entry}`);
    }

    // Stopped as systemd and `docker stop` stop it: SIGTERM, and a clean exit.
    server.kill('SIGTERM');
    assert.equal(await serverExit, 0, `zk-server exit code after SIGTERM:\n${serverOut}`);
  });
});
