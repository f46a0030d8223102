// Runs the real `node dist/src/cli/zk-server.js` as a child process against temp configs on free
// 127.0.0.1 ports, the way an operator would use it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fourLetterWord, freePort } from '../support/ServerProcess.js';
import type { QuorumServerSpec } from '../../src/config/ServerConfig.js';
import { SERVER_ENV, SERVER_NODE_FLAGS, SHARED_CORES_NODE_FLAGS, localMemberCount, serverNodeFlagsFor, withServerEnv, withServerNodeFlags } from '../../src/cli/nodeFlags.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/zk-server.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment without anything from the caller that would change which config or flags are used. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['ZOOCFGDIR', 'ZOOCFG', 'ZOOPIDFILE', 'ZOO_LOG_DIR', 'JVMFLAGS', 'SERVER_JVMFLAGS', 'ZK_JUTE_MAXBUFFER']) delete env[k];
  return { ...env, ...extra };
}

function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: cleanEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`zk-server ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 20000} ms\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 20000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like runCli, but stdout as raw bytes. */
function runCliRaw(args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`zk-server ${args.join(' ')} did not finish`));
    }, 20000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(chunks), stderr });
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitDead(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  return !isAlive(pid);
}

function waitExit(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const t = setTimeout(() => reject(new Error(`pid ${child.pid} did not exit within ${ms} ms`)), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal });
    });
  });
}

/** Waits until `srvr` answers with a Mode line; bounded. */
async function waitServing(port: number, ms = 20000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const out = await fourLetterWord('127.0.0.1', port, 'srvr', 1000);
      if (/Mode: /.test(out)) return out;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`nothing answered srvr on 127.0.0.1:${port}`);
    await sleep(100);
  }
}

describe('zk-server CLI', () => {
  let work: string;
  /** Server pids this file started (directly or through `start`), killed by pid in after(). */
  const started = new Set<number>();

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-server-cli-'));
  });

  after(async () => {
    for (const pid of started) {
      if (isAlive(pid)) {
        process.kill(pid, 'SIGKILL');
        await waitDead(pid, 5000);
      }
    }
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** A fresh dir with zoo.cfg (standalone, 127.0.0.1, free port) and its data dir. */
  async function setup(name: string, extra = ''): Promise<{ dir: string; cfg: string; dataDir: string; port: number }> {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    const dataDir = path.join(dir, 'data');
    const port = await freePort();
    const cfg = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(
      cfg,
      `tickTime=2000\ndataDir=${dataDir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\n${extra}`,
    );
    return { dir, cfg, dataDir, port };
  }

  it('print-cmd prints the node command line start would run', async () => {
    const { cfg, dataDir } = await setup('printcmd');
    const r = await runCli(['print-cmd', cfg]);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, `Using config: ${cfg}\n`);
    const out = `zookeeper-${os.userInfo().username}-server-${os.hostname()}.out`;
    assert.equal(
      r.stdout,
      `${Object.entries(SERVER_ENV).map(([k, v]) => `${k}="${v}" `).join('')}"${process.execPath}" ${SERVER_NODE_FLAGS.map((f) => `"${f}"`).join(' ')} "${CLI}" start-foreground "${cfg}" > "${path.join(dataDir, out)}" 2>&1 < /dev/null\n`,
    );
    const withLogDir = await runCli(['print-cmd', cfg], { env: { ZOO_LOG_DIR: '/var/log/zk' } });
    assert.match(withLogDir.stdout, new RegExp(` > "/var/log/zk/${out.replace(/\./g, '\\.')}" 2>&1 < /dev/null\n$`));
  });

  it('every way of starting the server runs it with the same node flags', () => {
    const shebang = fs.readFileSync(CLI, 'utf8').split('\n')[0]!;
    const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(CLI), '../../../package.json'), 'utf8'));
    const settings = [...SERVER_NODE_FLAGS, ...Object.entries(SERVER_ENV).map(([k, v]) => `${k}=${v}`)];
    for (const f of settings) {
      assert.ok(shebang.split(' ').includes(f), `zk-server's shebang (${shebang}) lacks ${f}`);
      assert.ok(pkg.scripts.start.split(' ').includes(f), `npm start (${pkg.scripts.start}) lacks ${f}`);
    }
    assert.equal(withServerEnv({ MALLOC_MMAP_THRESHOLD_: '65536' }).MALLOC_MMAP_THRESHOLD_, '65536', 'the environment wins');
    assert.deepEqual(withServerNodeFlags(['--max-semi-space-size=8', '--trace-gc']), ['--max-semi-space-size=8', '--trace-gc', '--heap-growing-percent=50']);
  });

  it('members that outnumber the cores run V8 GC on the main thread; a standalone server or a lone member does not', () => {
    const member = (host: string, id: number): [number, QuorumServerSpec] => [id, { id, addresses: [{ host, quorumPort: 2888 + id, electionPort: 3888 + id }], type: 'participant' }];
    const colocated = { servers: new Map([member('127.0.0.1', 1), member('localhost', 2), member('127.0.0.3', 3)]) };
    const spread = { servers: new Map([member('10.1.0.1', 1), member('10.1.0.2', 2), member('10.1.0.3', 3)]) };
    const ifaces = { eth0: [{ address: '10.1.0.2', netmask: '255.255.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: '10.1.0.2/16' }] } as ReturnType<typeof os.networkInterfaces>;
    assert.equal(localMemberCount(colocated, ifaces, 'box'), 3);
    assert.equal(localMemberCount(spread, ifaces, 'box'), 1, 'only the member at one of this machine\'s addresses');
    assert.equal(localMemberCount({ servers: undefined }, ifaces, 'box'), 1);
    assert.deepEqual(serverNodeFlagsFor(colocated, [], 2), [...SERVER_NODE_FLAGS, ...SHARED_CORES_NODE_FLAGS]);
    assert.deepEqual(serverNodeFlagsFor(colocated, [], 4), [...SERVER_NODE_FLAGS], 'enough cores for every member');
    assert.deepEqual(serverNodeFlagsFor({ servers: undefined }, [], 1), [...SERVER_NODE_FLAGS]);
    assert.deepEqual(serverNodeFlagsFor(undefined, [], 1), [...SERVER_NODE_FLAGS]);
    // An explicit choice on the command line wins, in either direction.
    assert.deepEqual(serverNodeFlagsFor(colocated, ['--no-single-threaded-gc'], 2), ['--no-single-threaded-gc', ...SERVER_NODE_FLAGS]);
  });

  it('print-cmd of a member whose ensemble is all on this machine carries the GC choice for its core count', async () => {
    const { cfg, dataDir } = await setup('printcmd-ens');
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'myid'), '1\n');
    fs.appendFileSync(cfg, `initLimit=10\nsyncLimit=5\n${[1, 2, 3].map((i) => `server.${i}=127.0.0.1:${2888 + i}:${3888 + i}\n`).join('')}`);
    const r = await runCli(['print-cmd', cfg]);
    assert.equal(r.code, 0, r.stderr);
    const expected = os.availableParallelism() < 3 ? [...SERVER_NODE_FLAGS, ...SHARED_CORES_NODE_FLAGS] : [...SERVER_NODE_FLAGS];
    assert.ok(r.stdout.includes(`"${process.execPath}" ${expected.map((f) => `"${f}"`).join(' ')} "${CLI}" start-foreground`), r.stdout);
  });

  it('a bad config: exit 1 and one clear line naming file, line, key and value, no stack trace', async () => {
    const { cfg } = await setup('badcfg');
    fs.appendFileSync(cfg, 'maxClientCnxns=lots\n');
    for (const cmd of ['start-foreground', 'start', 'status']) {
      const r = await runCli([cmd, cfg]);
      assert.equal(r.code, 1, `${cmd}: ${r.stdout} ${r.stderr}`);
      assert.equal(
        r.stderr,
        `Using config: ${cfg}\nInvalid config, exiting abnormally: ${cfg}:7: maxClientCnxns: 'lots' is not a number\n`,
        cmd,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });

  it('a missing config file is reported as such', async () => {
    const missing = path.join(work, 'nowhere', 'zoo.cfg');
    const r = await runCli(['start-foreground', missing]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Using config: ${missing}\nInvalid config, exiting abnormally: ${missing}: file does not exist\n`);
  });

  it('a quorum config without a myid is refused with one line', async () => {
    const { cfg } = await setup('quorum', 'initLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890\n');
    fs.mkdirSync(path.join(path.dirname(cfg), 'data'), { recursive: true });
    const r = await runCli(['start-foreground', cfg]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Invalid config, exiting abnormally: .*myid file is missing/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('usage: --help exits 0, an unknown command exits 2', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: zk-server \[--config <conf-dir>\] \{start\|start-foreground\|stop\|version\|restart\|status\|print-cmd\}/);
    const bad = await runCli(['frobnicate']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^Unknown command: frobnicate\nUsage: zk-server/);
    const none = await runCli([]);
    assert.equal(none.code, 2);
  });

  it('version', async () => {
    const r = await runCli(['version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^zookeeper-ts, version \d+\.\d+\.\d+ \(compatible with Apache ZooKeeper 3\.8\.0\)\n$/);
  });

  it('start-foreground serves, logs a startup line, and exits 0 on SIGTERM', async () => {
    const { cfg, port, dataDir } = await setup('fg');
    const child = spawn(process.execPath, [CLI, 'start-foreground', cfg], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    started.add(child.pid!);
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.resume();
    const srvr = await waitServing(port);
    assert.match(srvr, /Mode: standalone/);
    assert.match(stdout, /Reading configuration from: /);
    assert.match(stdout, new RegExp(`started in standalone mode, serving clients on 127\\.0\\.0\\.1:${port} \\(pid ${child.pid}\\)`));
    // Data goes to the configured dataDir.
    assert.ok(fs.existsSync(path.join(dataDir, 'version-2')));
    process.kill(child.pid!, 'SIGTERM');
    const exit = await waitExit(child, 10000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(stdout, /Received SIGTERM, shutting down/);
    assert.match(stdout, /shutdown complete/);
    await assert.rejects(fourLetterWord('127.0.0.1', port, 'srvr', 1000));
  });

  it('a txn log that cannot be written stops the server with exit 1; a restart recovers every acknowledged write', async () => {
    // snapCount=2: the log rolls to a new file every couple of txns. Once version-2 is replaced by
    // a plain file, creating that next log file fails (ENOTDIR, even for root).
    const { cfg, port, dataDir } = await setup('logfail', 'snapCount=2\n');
    const child = spawn(process.execPath, [CLI, 'start-foreground', cfg], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    started.add(child.pid!);
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stdout += d));
    await waitServing(port);
    const { RawClient } = await import('../support/RawClient.js');
    const R = await import('../../src/protocol/records.js');
    const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
    const c = await RawClient.connect(port);
    const acked: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await c.request(1, R.CreateRequest, { path: `/ok${i}`, data: null, acl: OPEN, flags: 0 });
      assert.equal(r.err, 0);
      acked.push(`ok${i}`);
    }
    const v2 = path.join(dataDir, 'version-2');
    fs.renameSync(v2, v2 + '.moved');
    fs.writeFileSync(v2, 'not a directory');
    for (let i = 0; i < 10 && !c.closed; i++) {
      try {
        const r = await c.request(1, R.CreateRequest, { path: `/after${i}`, data: null, acl: OPEN, flags: 0 });
        if (r.err === 0) acked.push(`after${i}`);
      } catch {
        break; // the connection went down with the server
      }
    }
    const exit = await waitExit(child, 10000);
    assert.deepEqual(exit, { code: 1, signal: null });
    assert.match(stdout, /ERROR .*Severe unrecoverable error/);
    // A supervisor restarts it on the repaired directory: everything acknowledged is there.
    fs.rmSync(v2);
    fs.renameSync(v2 + '.moved', v2);
    const again = spawn(process.execPath, [CLI, 'start-foreground', cfg], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    started.add(again.pid!);
    again.stdout!.resume();
    again.stderr!.resume();
    await waitServing(port);
    const d = await RawClient.connect(port);
    const kids = await d.request(8, R.GetChildrenRequest, { path: '/', watch: false });
    const children = R.GetChildrenResponse.read(kids.body).children;
    for (const name of acked) assert.ok(children.includes(name), `acknowledged /${name} lost; have ${children}`);
    d.close();
    process.kill(again.pid!, 'SIGTERM');
    assert.deepEqual(await waitExit(again, 10000), { code: 0, signal: null });
  });

  it('start-foreground: SIGTERM while still starting up still ends in a clean stop and exit 0', async () => {
    const { cfg } = await setup('fgearly');
    const child = spawn(process.execPath, [CLI, 'start-foreground', cfg], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'ignore'] });
    started.add(child.pid!);
    let stdout = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no startup output: ${stdout}`)), 10000);
      child.stdout!.on('data', (d) => {
        stdout += d;
        // Logged right after the signal handlers are installed, before recovery and listen.
        if (stdout.includes('Reading configuration from:')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    process.kill(child.pid!, 'SIGTERM');
    assert.deepEqual(await waitExit(child, 10000), { code: 0, signal: null });
    assert.match(stdout, /Received SIGTERM, shutting down[\s\S]*shutdown complete/);
  });

  it('start-foreground also stops cleanly on SIGINT (Ctrl-C)', async () => {
    const { cfg, port } = await setup('fgint');
    const child = spawn(process.execPath, [CLI, 'start-foreground', cfg], { env: cleanEnv(), stdio: 'ignore' });
    started.add(child.pid!);
    await waitServing(port);
    process.kill(child.pid!, 'SIGINT');
    assert.deepEqual(await waitExit(child, 10000), { code: 0, signal: null });
  });

  it('start-foreground on a port already in use: exit 1 with one line', async () => {
    const { cfg, port } = await setup('inuse');
    const blocker = net.createServer(() => {});
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const r = await runCli(['start-foreground', cfg]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`zk-server: listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${port}\\n$`));
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      const s = await runCli(['start', cfg]);
      assert.equal(s.code, 1);
      assert.equal(s.stdout, 'Starting zookeeper ... FAILED TO START\n');
      assert.match(s.stderr, new RegExp(`Something is already listening on 127\\.0\\.0\\.1:${port}`));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('start → status → start again → stop → status → stop, like zkServer.sh', async () => {
    const { cfg, dataDir, port, dir } = await setup('daemon');
    const env = { ZOO_LOG_DIR: path.join(dir, 'logs') };
    const pidFile = path.join(dataDir, 'zookeeper_server.pid');

    const t0 = Date.now();
    const s = await runCli(['start', cfg], { env });
    const startMs = Date.now() - t0;
    assert.equal(s.code, 0, s.stdout + s.stderr);
    assert.equal(s.stdout, 'Starting zookeeper ... STARTED\n');
    assert.equal(s.stderr, `Using config: ${cfg}\n`);
    const pidText = fs.readFileSync(pidFile, 'utf8');
    assert.match(pidText, /^\d+$/, 'pid file holds the pid without a newline');
    const pid = Number(pidText);
    started.add(pid);
    assert.ok(isAlive(pid));
    // STARTED means it is already serving.
    assert.match(await fourLetterWord('127.0.0.1', port, 'srvr', 2000), /Mode: standalone/);
    const out = fs.readdirSync(env.ZOO_LOG_DIR).find((f) => f.endsWith('.out'));
    assert.ok(out, 'server output file in ZOO_LOG_DIR');
    assert.match(fs.readFileSync(path.join(env.ZOO_LOG_DIR, out), 'utf8'), /started in standalone mode/);
    console.log(`# zk-server start took ${startMs} ms`);

    const st = await runCli(['status', cfg], { env });
    assert.equal(st.code, 0);
    assert.equal(st.stdout, `Client port found: ${port}. Client address: 127.0.0.1. Client SSL: false.\nMode: standalone\n`);

    const again = await runCli(['start', cfg], { env });
    assert.equal(again.code, 1);
    assert.equal(again.stdout, `Starting zookeeper ... already running as process ${pid}.\n`);
    assert.ok(isAlive(pid));

    const stop = await runCli(['stop', cfg], { env });
    assert.equal(stop.code, 0);
    assert.equal(stop.stdout, 'Stopping zookeeper ... STOPPED\n');
    assert.ok(!isAlive(pid), 'stop waits for the server to exit');
    assert.ok(!fs.existsSync(pidFile));

    const st2 = await runCli(['status', cfg], { env });
    assert.equal(st2.code, 1);
    assert.equal(
      st2.stdout,
      `Client port found: ${port}. Client address: 127.0.0.1. Client SSL: false.\nError contacting service. It is probably not running.\n`,
    );

    const stop2 = await runCli(['stop', cfg], { env });
    assert.equal(stop2.code, 0);
    assert.equal(stop2.stdout, `Stopping zookeeper ... no zookeeper to stop (could not find file ${pidFile})\n`);
  });

  it('start: a server that dies while starting → FAILED TO START, its last output, no pid file left', async () => {
    const { cfg, dir, dataDir } = await setup('diesatstart');
    const notADir = path.join(dir, 'plain-file');
    fs.writeFileSync(notADir, '');
    fs.appendFileSync(cfg, `dataLogDir=${notADir}\n`);
    const r = await runCli(['start', cfg], { env: { ZOO_LOG_DIR: dir } });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'Starting zookeeper ... FAILED TO START\n');
    assert.match(r.stderr, /Last lines of .*\.out:\n/);
    assert.match(r.stderr, new RegExp(`dataLogDir ${notADir} is not a directory`));
    assert.ok(!fs.existsSync(path.join(dataDir, 'zookeeper_server.pid')));
  });

  it('restart replaces the server process and keeps the data', async () => {
    const { cfg, dataDir, port, dir } = await setup('restart');
    const env = { ZOO_LOG_DIR: dir };
    const pidFile = path.join(dataDir, 'zookeeper_server.pid');
    assert.equal((await runCli(['start', cfg], { env })).code, 0);
    const pid1 = Number(fs.readFileSync(pidFile, 'utf8'));
    started.add(pid1);
    // Write something through the client port so there is data to survive the restart.
    await createNode(`127.0.0.1:${port}`, '/survives', 'yes');

    const r = await runCli(['restart', cfg], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, 'Stopping zookeeper ... STOPPED\nStarting zookeeper ... STARTED\n');
    const pid2 = Number(fs.readFileSync(pidFile, 'utf8'));
    started.add(pid2);
    assert.notEqual(pid2, pid1);
    assert.ok(!isAlive(pid1));
    assert.ok(isAlive(pid2));
    const srvr = await fourLetterWord('127.0.0.1', port, 'srvr', 2000);
    assert.match(srvr, /Mode: standalone/);
    assert.match(srvr, /Zxid: 0x[1-9a-f]/, 'the write before the restart was recovered');
    assert.equal(await getNodeData(`127.0.0.1:${port}`, '/survives'), 'yes');
    assert.equal((await runCli(['stop', cfg], { env })).code, 0);
    assert.ok(await waitDead(pid2, 5000));
  });

  it('stop does not signal an unrelated process named by a stale pid file', async () => {
    const { cfg, dataDir } = await setup('stale');
    fs.mkdirSync(dataDir, { recursive: true });
    const bystander = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    started.add(bystander.pid!);
    fs.writeFileSync(path.join(dataDir, 'zookeeper_server.pid'), String(bystander.pid));
    const r = await runCli(['stop', cfg]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /STOPPED\n$/);
    assert.match(r.stderr, new RegExp(`process ${bystander.pid} named in .* is not a zk-server \\(stale pid file\\); not signalling it`));
    await sleep(200);
    assert.ok(isAlive(bystander.pid!), 'the bystander is untouched');
    assert.ok(!fs.existsSync(path.join(dataDir, 'zookeeper_server.pid')));
    bystander.kill('SIGKILL');
    await waitExit(bystander, 5000);
  });

  it('ZOO_DATADIR_AUTOCREATE_DISABLE: refuse to start on an uninitialised dataDir, like zkServer.sh', async () => {
    const { cfg, dataDir, port } = await setup('noautocreate');
    const env = { ZOO_DATADIR_AUTOCREATE_DISABLE: '1' };
    const fg = await runCli(['start-foreground', cfg], { env });
    assert.equal(fg.code, 1);
    assert.match(fg.stdout, new RegExp(`ZooKeeper data directory is missing at ${dataDir} fix the path or run initialize\\n$`));
    const bg = await runCli(['start', cfg], { env });
    assert.equal(bg.code, 1);
    assert.equal(bg.stdout, `Starting zookeeper ... \nZooKeeper data directory is missing at ${dataDir} fix the path or run initialize\n`);
    assert.ok(!fs.existsSync(dataDir), 'nothing was created');
    // Once initialised, it starts.
    fs.mkdirSync(path.join(dataDir, 'version-2'), { recursive: true });
    const child = spawn(process.execPath, [CLI, 'start-foreground', cfg], { env: cleanEnv(env), stdio: 'ignore' });
    started.add(child.pid!);
    assert.match(await waitServing(port), /Mode: standalone/);
    process.kill(child.pid!, 'SIGTERM');
    assert.deepEqual(await waitExit(child, 10000), { code: 0, signal: null });
  });

  it('datadir.autocreate=false in zoo.cfg: a missing dataDir is an error, not created', async () => {
    const { cfg, dataDir } = await setup('noautocreate-cfg', 'datadir.autocreate=false\n');
    const r = await runCli(['start-foreground', cfg]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`zk-server: dataDir ${dataDir} does not exist \\(autocreate is off\\)\\n$`));
    assert.ok(!fs.existsSync(dataDir));
  });

  it('ZOOPIDFILE overrides the pid file location', async () => {
    const { cfg, dir, port } = await setup('pidenv');
    const pidFile = path.join(dir, 'run', 'zk.pid');
    const env = { ZOOPIDFILE: pidFile, ZOO_LOG_DIR: dir };
    assert.equal((await runCli(['start', cfg], { env })).code, 0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    started.add(pid);
    assert.match(await fourLetterWord('127.0.0.1', port, 'srvr', 2000), /Mode: standalone/);
    assert.equal((await runCli(['stop', cfg], { env })).stdout, 'Stopping zookeeper ... STOPPED\n');
    assert.ok(await waitDead(pid, 5000));
  });

  it('config lookup: default conf/zoo.cfg, ZOOCFGDIR and --config for bare names, paths as given', async () => {
    const { cfg, dir } = await setup('lookup');
    fs.mkdirSync(path.join(dir, 'conf'));
    fs.copyFileSync(cfg, path.join(dir, 'conf', 'zoo.cfg'));
    fs.copyFileSync(cfg, path.join(dir, 'conf', 'other.cfg'));
    const viaCwd = await runCli(['print-cmd'], { cwd: dir });
    assert.equal(viaCwd.stderr, 'Using config: conf/zoo.cfg\n');
    const viaEnv = await runCli(['print-cmd', 'other.cfg'], { env: { ZOOCFGDIR: path.join(dir, 'conf') } });
    assert.equal(viaEnv.stderr, `Using config: ${path.join(dir, 'conf', 'other.cfg')}\n`);
    const viaEnvDefault = await runCli(['print-cmd'], { env: { ZOOCFGDIR: path.join(dir, 'conf') } });
    assert.equal(viaEnvDefault.stderr, `Using config: ${path.join(dir, 'conf', 'zoo.cfg')}\n`);
    const viaFlag = await runCli(['--config', path.join(dir, 'conf'), 'print-cmd', 'other.cfg']);
    assert.equal(viaFlag.stderr, `Using config: ${path.join(dir, 'conf', 'other.cfg')}\n`);
    const asGiven = await runCli(['print-cmd', cfg], { env: { ZOOCFGDIR: path.join(dir, 'conf') } });
    assert.equal(asGiven.stderr, `Using config: ${cfg}\n`);
  });

  it('dump-log and dump-snapshot print ZooKeeper\'s tool output for recorded 3.8 files', async () => {
    const vectors = '/work/shared/vectors/disk';
    const data = path.join(vectors, 'data', 'version-2');
    const { dumpSnapshot, dumpTxnLog } = await import('../../src/storage/Dump.js');
    for (const [cmd, file, recorded, inProcess] of [
      ['dump-log', 'log.1', 'log-dump.txt', dumpTxnLog],
      ['dump-log', 'log.2a', 'log-dump.txt', dumpTxnLog],
      ['dump-snapshot', 'snapshot.0', 'snapshot-dump.txt', dumpSnapshot],
      ['dump-snapshot', 'snapshot.31', 'snapshot-dump.txt', dumpSnapshot],
    ] as const) {
      const out = await runCliRaw([cmd, path.join(data, file)]);
      assert.equal(out.code, 0, `${cmd} ${file}: ${out.stderr}`);
      // The command adds nothing and loses nothing (log.2a holds binary znode data).
      assert.deepEqual(out.stdout, Buffer.from(await inProcess(path.join(data, file)), 'utf8'), `${cmd} ${file}`);
      const java = fs.readFileSync(path.join(vectors, recorded), 'utf8').split(/^==== .* -d (\S+) \(exit 0\)\n/m);
      const want = java[java.indexOf(file) + 1]!;
      assert.equal(out.stdout.toString('utf8').split('\n')[0], want.split('\n')[0], `${cmd} ${file}: first line as ZooKeeper prints it`);
    }
    const missing = await runCli(['dump-snapshot', path.join(work, 'no-such-snapshot')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^zk-server dump-snapshot: .*no-such-snapshot.*ENOENT/);
    const wrongKind = await runCli(['dump-log', path.join(data, 'snapshot.0')]);
    assert.equal(wrongKind.code, 1);
    assert.match(wrongKind.stderr, /not a ZooKeeper txn log/);
    const noFile = await runCli(['dump-log']);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /^dump-log needs a file\nUsage: /);
  });

  it('status reports "localhost" when the config has no clientPortAddress, like zkServer.sh', async () => {
    const dir = path.join(work, 'localhost');
    fs.mkdirSync(dir);
    const port = await freePort();
    const cfg = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(cfg, `dataDir=${dir}/data\nclientPort=${port}\n`);
    const r = await runCli(['status', cfg]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, `Client port found: ${port}. Client address: localhost. Client SSL: false.\nError contacting service. It is probably not running.\n`);
    fs.writeFileSync(cfg, `dataDir=${dir}/data\n`);
    const none = await runCli(['status', cfg]);
    assert.equal(none.code, 1);
    assert.equal(none.stdout, 'Unable to find either secure or unsecure client port in any configs. Terminating.\n');
  });
});

type NzkClient = {
  once(ev: string, f: () => void): void;
  connect(): void;
  close(): void;
  create(p: string, d: Buffer, cb: (e: Error | null) => void): void;
  getData(p: string, cb: (e: Error | null, data?: Buffer) => void): void;
};

/** Runs one call with node-zookeeper-client (an independent client, a devDependency); bounded. */
async function withClient<T>(hosts: string, call: (c: NzkClient, done: (e: Error | null, v?: T) => void) => void): Promise<T> {
  const mod = (await import('node-zookeeper-client' as string)) as { createClient?: (h: string) => NzkClient; default?: { createClient: (h: string) => NzkClient } };
  const createClient = mod.createClient ?? mod.default!.createClient;
  const client = createClient(hosts);
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      client.close();
      reject(new Error('node-zookeeper-client: timeout'));
    }, 10000);
    client.once('connected', () =>
      call(client, (e, v) => {
        clearTimeout(t);
        client.close();
        if (e) reject(e);
        else resolve(v as T);
      }),
    );
    client.connect();
  });
}

function createNode(hosts: string, p: string, data: string): Promise<void> {
  return withClient<void>(hosts, (c, done) => c.create(p, Buffer.from(data), (e) => done(e)));
}

function getNodeData(hosts: string, p: string): Promise<string> {
  return withClient<string>(hosts, (c, done) => c.getData(p, (e, d) => done(e, d?.toString('utf8'))));
}
