// The server log of the real `zk-server start-foreground` process: levels and appenders from
// ZOO_LOG4J_PROP / -Dzookeeper.root.logger, the file in ZOO_LOG_DIR, size rotation, JSON lines,
// and the session/connection lines ZooKeeper 3.8 writes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseZooCfg, freePort, makeTempDir, startServerProcess, writeZooCfg, type RunningServer } from '../support/ServerProcess.js';
import { RawClient } from '../support/RawClient.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/zk-server.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LOG_NAME = 'zk.log';

/** Environment with nothing from the caller that changes logging or config. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(ZOO|JVMFLAGS|SERVER_JVMFLAGS|ZK_)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

interface Started {
  server: RunningServer;
  logDir: string;
  logFile: string;
  work: string;
}

/** start-foreground with a fresh dataDir; tickTime 200 makes the minimum session timeout 400 ms. */
async function startWith(env: Record<string, string>): Promise<Started> {
  const work = makeTempDir('zk-logging-');
  const dataDir = path.join(work, 'data');
  const logDir = path.join(work, 'logs');
  fs.mkdirSync(dataDir);
  fs.mkdirSync(path.join(work, 'out'));
  const port = await freePort();
  const cfg = path.join(work, 'zoo.cfg');
  writeZooCfg(cfg, baseZooCfg(dataDir, port, 200));
  // startServerProcess merges env over process.env; blank out what the caller may have set.
  const blank: Record<string, string> = { ZOO_LOG4J_PROP: '', ZOO_LOG_FORMAT: '', SERVER_JVMFLAGS: '', JVMFLAGS: '', ZOO_LOG_FILE: LOG_NAME };
  const server = await startServerProcess('zk-server', process.execPath, [CLI, 'start-foreground', cfg], '127.0.0.1', port, dataDir, false, path.join(work, 'out'), {
    env: { ...blank, ZOO_LOG_DIR: logDir, ...env },
  });
  return { server, logDir, logFile: path.join(logDir, LOG_NAME), work };
}

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function waitFor(file: string, re: RegExp, ms = 10000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = read(file);
    const m = re.exec(text);
    if (m) return m[0];
    if (Date.now() > deadline) throw new Error(`${re} not in ${file} within ${ms} ms:\n${text.slice(-3000)}`);
    await sleep(50);
  }
}

/** Opens a session with the given timeout, then drops the socket so the session can expire. */
async function sessionThenDrop(port: number, timeout: number): Promise<{ id: string; localPort: number; sessionId: bigint; passwd: Buffer }> {
  const c = await RawClient.connect(port, { timeout });
  const localPort = c.sock.localPort!;
  const out = { id: c.sessionId.toString(16), localPort, sessionId: c.sessionId, passwd: c.passwd };
  c.sock.destroy();
  return out;
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`zk-server ${args.join(' ')} did not finish\n${stdout}\n${stderr}`));
    }, 20000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('zk-server logging', () => {
  it('DEBUG,ROLLINGFILE: the file in ZOO_LOG_DIR gets session establishment, close, expiry and invalid-session lines; the console none', async () => {
    const s = await startWith({ ZOO_LOG4J_PROP: 'DEBUG,ROLLINGFILE' });
    try {
      await waitFor(s.logFile, /INFO  \[main:QuorumPeerConfig\] - Reading configuration from: /);
      const port = s.server.port;
      const a = await sessionThenDrop(port, 400);
      // ZooKeeper's layout: %d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}] - %m
      await waitFor(
        s.logFile,
        new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3} \\[myid:\\] - DEBUG \\[[^\\]:]+:ZooKeeperServer\\] - Established session 0x${a.id} with negotiated timeout 400 for client /127\\.0\\.0\\.1:${a.localPort}\\n`, 'm'),
      );
      await waitFor(s.logFile, new RegExp(`DEBUG \\[[^\\]]+:NIOServerCnxn\\] - Closed socket connection for client /127\\.0\\.0\\.1:${a.localPort} which had sessionid 0x${a.id}\\n`));
      await waitFor(s.logFile, new RegExp(`INFO  \\[SessionTracker:ZooKeeperServer\\] - Expiring session 0x${a.id}, timeout of 400ms exceeded\\n`), 5000);
      // Resuming the expired session is refused, and ZooKeeper says why at INFO.
      try {
        const again = await RawClient.connect(port, { timeout: 400, sessionId: a.sessionId, passwd: a.passwd });
        again.sock.destroy();
      } catch {
        /* refused: the server closes the connection */
      }
      await waitFor(s.logFile, new RegExp(`INFO  \\[[^\\]]+:ZooKeeperServer\\] - Invalid session 0x${a.id} for client /127\\.0\\.0\\.1:\\d+, probably expired\\n`));
      // A four-letter word's connection (startServerProcess polls with srvr): accepted, run, never had a session.
      await waitFor(s.logFile, /DEBUG \[NIOServerCxnFactory\.AcceptThread:\/127\.0\.0\.1:\d+:NIOServerCnxnFactory\] - Accepted socket connection from \/127\.0\.0\.1:\d+\n/);
      await waitFor(s.logFile, /INFO  \[[^\]]+:NIOServerCnxn\] - Processing srvr command from \/127\.0\.0\.1:\d+\n/);
      await waitFor(s.logFile, /Closed socket connection for client \/127\.0\.0\.1:\d+ \(no session established for client\)\n/);
      // ROLLINGFILE only: the process's own output (what 'start' sends to the .out file) has no log lines.
      assert.doesNotMatch(read(s.server.logFile), /Reading configuration|Established session/);
    } finally {
      await s.server.stop({ keepDataDir: true });
      const tailText = read(s.logFile);
      fs.rmSync(s.work, { recursive: true, force: true });
      // The last lines reach the file before the process exits.
      assert.match(tailText, /INFO  \[main:ZkServer\] - shutdown complete\n$/);
    }
  });

  it('INFO,CONSOLE (the default): expiry on the console, no DEBUG lines, no log file', async () => {
    const s = await startWith({});
    try {
      const a = await sessionThenDrop(s.server.port, 400);
      await waitFor(s.server.logFile, new RegExp(`\\[myid:\\] - INFO  \\[SessionTracker:ZooKeeperServer\\] - Expiring session 0x${a.id}, timeout of 400ms exceeded`), 5000);
      assert.doesNotMatch(read(s.server.logFile), /DEBUG|Established session/);
      assert.equal(fs.existsSync(s.logDir) && fs.readdirSync(s.logDir).includes(LOG_NAME), false);
    } finally {
      await s.server.stop();
      fs.rmSync(s.work, { recursive: true, force: true });
    }
  });

  it('two appenders with their own thresholds: DEBUG,CONSOLE,ROLLINGFILE and -Dzookeeper.console.threshold=WARN', async () => {
    const s = await startWith({ ZOO_LOG4J_PROP: 'DEBUG,CONSOLE,ROLLINGFILE', SERVER_JVMFLAGS: '-Dzookeeper.console.threshold=WARN' });
    try {
      await waitFor(s.logFile, /DEBUG \[[^\]]+:NIOServerCnxnFactory\] - Accepted socket connection/);
      const file = read(s.logFile);
      assert.match(file, /INFO  \[main:QuorumPeerConfig\] - Reading configuration from: /);
      assert.match(file, /WARN  \[main:QuorumPeerMain\] - Either no config or no quorum defined in config, running in standalone mode/);
      const consoleOut = read(s.server.logFile);
      assert.match(consoleOut, /WARN  \[main:QuorumPeerMain\] - Either no config or no quorum defined in config, running in standalone mode/);
      assert.doesNotMatch(consoleOut, / - (INFO |DEBUG) \[/);
    } finally {
      await s.server.stop();
      fs.rmSync(s.work, { recursive: true, force: true });
    }
  });

  it('-Dzookeeper.log.format=json and -Dzookeeper.root.logger in SERVER_JVMFLAGS (which wins over ZOO_LOG4J_PROP): one object per line', async () => {
    const s = await startWith({
      ZOO_LOG4J_PROP: 'DEBUG,CONSOLE',
      SERVER_JVMFLAGS: '-Dzookeeper.root.logger=INFO,ROLLINGFILE -Dzookeeper.log.format=json',
    });
    try {
      const a = await sessionThenDrop(s.server.port, 400);
      await waitFor(s.logFile, new RegExp(`"message":"Expiring session 0x${a.id}, timeout of 400ms exceeded"`), 5000);
      const lines = read(s.logFile).trimEnd().split('\n');
      assert.ok(lines.length >= 4, `expected several lines, got ${lines.length}`);
      const objs = lines.map((l) => JSON.parse(l) as Record<string, string>);
      for (const o of objs) {
        assert.ok(!Number.isNaN(Date.parse(o['@timestamp']!)), `bad time in ${JSON.stringify(o)}`);
        assert.match(o['log.level']!, /^(INFO|WARN|ERROR)$/);
        assert.equal(o.myid, '');
        assert.equal(typeof o.message, 'string');
        assert.equal(typeof o['process.thread.name'], 'string');
      }
      const exp = objs.find((o) => o.message!.startsWith('Expiring session'))!;
      assert.equal(exp['log.level'], 'INFO');
      assert.equal(exp['process.thread.name'], 'SessionTracker');
      assert.equal(exp['log.logger'], 'org.apache.zookeeper.server.ZooKeeperServer');
      assert.ok(objs.some((o) => o['log.logger'] === 'org.apache.zookeeper.server.quorum.QuorumPeerConfig' && o.message!.startsWith('Reading configuration from: ')));
      // INFO from the system property: the DEBUG in ZOO_LOG4J_PROP is overridden, and so is CONSOLE.
      assert.ok(!objs.some((o) => o['log.level'] === 'DEBUG'));
      assert.doesNotMatch(read(s.server.logFile), /Expiring session/);
    } finally {
      await s.server.stop();
      fs.rmSync(s.work, { recursive: true, force: true });
    }
  });

  it('rotates by size: -Dzookeeper.log.maxfilesize / maxbackupindex, newest backup in .1, none beyond the index', async () => {
    const s = await startWith({
      ZOO_LOG4J_PROP: 'DEBUG,ROLLINGFILE',
      SERVER_JVMFLAGS: '-Dzookeeper.log.maxfilesize=2KB -Dzookeeper.log.maxbackupindex=3',
    });
    try {
      // Each session writes an establishment and a close line (~150 bytes each): 60 of them are
      // about 18 KB, enough to fill the window of 3 backups several times over.
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) {
        const c = await RawClient.connect(s.server.port, { timeout: 4000 });
        ids.push(c.sessionId.toString(16));
        c.sock.destroy();
      }
      const last = ids[ids.length - 1]!;
      await waitFor(s.logFile, new RegExp(`which had sessionid 0x${last}\\n`));
      const files = fs.readdirSync(s.logDir).sort();
      assert.deepEqual(files, [LOG_NAME, `${LOG_NAME}.1`, `${LOG_NAME}.2`, `${LOG_NAME}.3`]);
      for (const f of files) {
        const size = fs.statSync(path.join(s.logDir, f)).size;
        // A file rolls once it passes the limit, so it can hold one line more than 2 KB.
        assert.ok(size <= 2048 + 300, `${f} is ${size} bytes`);
      }
      // Order: .3 older than .2 older than .1 older than the live file, with no gap between them.
      const seq = [`${LOG_NAME}.3`, `${LOG_NAME}.2`, `${LOG_NAME}.1`, LOG_NAME]
        .map((f) => read(path.join(s.logDir, f)))
        .join('')
        .split('\n')
        .map((l) => /Established session 0x([0-9a-f]+)/.exec(l)?.[1])
        .filter((x): x is string => x !== undefined);
      assert.ok(seq.length >= 10, `only ${seq.length} sessions kept`);
      const start = ids.indexOf(seq[0]!);
      assert.ok(start > 0, 'the oldest lines were rotated away');
      assert.deepEqual(seq, ids.slice(start, start + seq.length));
      assert.equal(seq[seq.length - 1], last);
    } finally {
      await s.server.stop();
      fs.rmSync(s.work, { recursive: true, force: true });
    }
  });

  it("'start' in the background with INFO,ROLLINGFILE: zkServer.sh's file names in ZOO_LOG_DIR, log lines in the .log, not the .out", async () => {
    const work = makeTempDir('zk-logging-bg-');
    const port = await freePort();
    const cfg = path.join(work, 'zoo.cfg');
    writeZooCfg(cfg, baseZooCfg(path.join(work, 'data'), port, 200));
    const logDir = path.join(work, 'logs');
    const env = { ZOO_LOG_DIR: logDir, ZOO_LOG4J_PROP: 'INFO,ROLLINGFILE', ZK_SERVER_START_TIMEOUT_MS: '20000' };
    const stem = `zookeeper-${process.env.USER || os.userInfo().username}-server-${os.hostname()}`;
    try {
      const started = await runCli(['start', cfg], env);
      assert.equal(started.code, 0, started.stdout + started.stderr);
      assert.match(started.stdout, /STARTED/);
      const stopped = await runCli(['stop', cfg], env);
      assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
      const log = read(path.join(logDir, `${stem}.log`));
      assert.match(log, /INFO  \[main:QuorumPeerConfig\] - Reading configuration from: /);
      assert.match(log, /INFO  \[main:ZkServer\] - shutdown complete\n$/);
      const out = read(path.join(logDir, `${stem}.out`));
      assert.ok(fs.existsSync(path.join(logDir, `${stem}.out`)));
      assert.doesNotMatch(out, /Reading configuration|shutdown complete/);
    } finally {
      // If an assertion failed before 'stop' ran, do not leave the server behind.
      const pid = Number(read(path.join(work, 'data', 'zookeeper_server.pid')));
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already stopped */
        }
      }
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('settings from $ZOOCFGDIR/zookeeper-env.sh and java.env, sourced as zkEnv.sh does', async () => {
    const work = makeTempDir('zk-logging-envsh-');
    const conf = path.join(work, 'conf');
    const dataDir = path.join(work, 'data');
    fs.mkdirSync(conf);
    fs.mkdirSync(path.join(work, 'out'));
    const port = await freePort();
    writeZooCfg(path.join(conf, 'zoo.cfg'), baseZooCfg(dataDir, port, 200));
    // Plain assignments (not exported) count, as they do for zkServer.sh; java.env comes second.
    fs.writeFileSync(path.join(conf, 'zookeeper-env.sh'), '# operator settings\nZOO_LOG_DIR="$ZOOCFGDIR/../logs"\nZOO_LOG4J_PROP=DEBUG,ROLLINGFILE\necho sourced\n');
    fs.writeFileSync(path.join(conf, 'java.env'), 'SERVER_JVMFLAGS="$SERVER_JVMFLAGS -Dzookeeper.log.format=json"\n');
    const server = await startServerProcess('zk-server', process.execPath, [CLI, '--config', conf, 'start-foreground', 'zoo.cfg'], '127.0.0.1', port, dataDir, false, path.join(work, 'out'), {
      // Set by the caller, then replaced by the scripts' assignments.
      env: { ZOO_LOG_DIR: path.join(work, 'elsewhere'), ZOO_LOG4J_PROP: 'INFO,CONSOLE', SERVER_JVMFLAGS: '', JVMFLAGS: '', ZOO_LOG_FORMAT: '', ZOO_LOG_FILE: LOG_NAME },
    });
    try {
      const logFile = path.join(work, 'logs', LOG_NAME);
      const c = await RawClient.connect(server.port, { timeout: 4000 });
      const id = c.sessionId.toString(16);
      c.sock.destroy();
      await waitFor(logFile, new RegExp(`"message":"Established session 0x${id} with negotiated timeout 4000 for client /127\\.0\\.0\\.1:\\d+"`));
      for (const line of read(logFile).trimEnd().split('\n')) JSON.parse(line);
      assert.equal(fs.existsSync(path.join(work, 'elsewhere')), false);
      // The scripts' own output goes to stderr, not into the environment.
      assert.match(read(server.logFile), /sourced/);
    } finally {
      await server.stop();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('a zookeeper-env.sh that fails stops the start with its error', async () => {
    const work = makeTempDir('zk-logging-envsh-bad-');
    try {
      fs.writeFileSync(path.join(work, 'zoo.cfg'), `dataDir=${path.join(work, 'data')}\nclientPort=${await freePort()}\n`);
      fs.writeFileSync(path.join(work, 'zookeeper-env.sh'), 'ZOO_LOG_DIR=/tmp\nno_such_command_zk_test\n');
      // A failed command in a sourced file does not stop sh; a syntax error does.
      fs.writeFileSync(path.join(work, 'java.env'), 'if then fi\n');
      const r = await runCli(['--config', work, 'start-foreground'], {});
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /Invalid config, exiting abnormally: could not source .*zookeeper-env\.sh and .*java\.env: /);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('bad logging settings: a clear message naming the variable, exit 1, no server', async () => {
    const work = makeTempDir('zk-logging-bad-');
    try {
      const port = await freePort();
      const cfg = path.join(work, 'zoo.cfg');
      writeZooCfg(cfg, baseZooCfg(path.join(work, 'data'), port, 200));
      const cases: Array<[Record<string, string>, RegExp]> = [
        [{ ZOO_LOG4J_PROP: 'VERBOSE,CONSOLE' }, /ZOO_LOG4J_PROP: 'VERBOSE' is not a log level \(one of TRACE, DEBUG, INFO/],
        [{ ZOO_LOG4J_PROP: 'INFO,SYSLOG' }, /ZOO_LOG4J_PROP: unknown appender 'SYSLOG' \(supported: CONSOLE, ROLLINGFILE\)/],
        [{ ZOO_LOG4J_PROP: 'INFO' }, /ZOO_LOG4J_PROP: 'INFO' names no appender/],
        [{ SERVER_JVMFLAGS: '-Dzookeeper.root.logger=LOUD,CONSOLE' }, /SERVER_JVMFLAGS -Dzookeeper\.root\.logger: 'LOUD' is not a log level/],
        [{ ZOO_LOG4J_PROP: 'INFO,ROLLINGFILE', SERVER_JVMFLAGS: '-Dzookeeper.log.maxfilesize=ten' }, /-Dzookeeper\.log\.maxfilesize: 'ten' is not a file size/],
        [{ ZOO_LOG4J_PROP: 'INFO,ROLLINGFILE', SERVER_JVMFLAGS: '-Dzookeeper.log.maxbackupindex=0' }, /-Dzookeeper\.log\.maxbackupindex: '0' is not a whole number/],
        [{ ZOO_LOG_FORMAT: 'xml' }, /ZOO_LOG_FORMAT: 'xml' is not a log format \(text or json\)/],
        [{ SERVER_JVMFLAGS: '-Dzookeeper.audit.enable=true -Dzookeeper.auditlog.maxfilesize=big' }, /-Dzookeeper\.auditlog\.maxfilesize: 'big' is not a file size/],
      ];
      for (const [env, re] of cases) {
        const r = await runCli(['start-foreground', cfg], { ...env, ZOO_LOG_DIR: path.join(work, 'logs') });
        assert.equal(r.code, 1, `${JSON.stringify(env)}: ${r.stderr}`);
        assert.match(r.stderr, /^Invalid logging configuration, exiting abnormally: /m);
        assert.match(r.stderr, re);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      }
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
