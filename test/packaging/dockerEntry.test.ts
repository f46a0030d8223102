// The container's environment → zoo.cfg/myid step, without Docker: each ZOO_* variable of the
// official image, its defaults, the keep-what-exists rules, and refusals that name the variable.
// The last tests run the real CLI and then the real server on what it wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ZOO_SERVERS, DockerEnvError, prepareDockerConfig, renderZooCfg } from '../../src/cli/dockerEntry.js';
import { parseProperties } from '../../src/config/ZooCfg.js';
import { fourLetterWord, freePort, makeTempDir } from '../support/ServerProcess.js';

const CLI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli');

/** zoo.cfg text → key/value map (last occurrence wins, as the server reads it). */
function kv(text: string): Map<string, string> {
  return new Map(parseProperties(text).map((p) => [p.key, p.value]));
}

function dirsEnv(root: string): Record<string, string> {
  return {
    ZOO_CONF_DIR: path.join(root, 'conf'),
    ZOO_DATA_DIR: path.join(root, 'data'),
    ZOO_DATA_LOG_DIR: path.join(root, 'datalog'),
    ZOO_LOG_DIR: path.join(root, 'logs'),
  };
}

test('defaults are the official image ENV values, with one standalone server on 2181', () => {
  const text = renderZooCfg({});
  assert.equal(
    text,
    [
      'dataDir=/data',
      'dataLogDir=/datalog',
      'tickTime=2000',
      'initLimit=5',
      'syncLimit=2',
      'autopurge.snapRetainCount=3',
      'autopurge.purgeInterval=0',
      'maxClientCnxns=60',
      'standaloneEnabled=true',
      'admin.enableServer=true',
      DEFAULT_ZOO_SERVERS,
      '',
    ].join('\n'),
  );
  assert.ok(!kv(text).has('4lw.commands.whitelist'), 'no whitelist line unless ZOO_4LW_COMMANDS_WHITELIST is set');
});

test('each variable lands on its zoo.cfg key', () => {
  const cfg = kv(
    renderZooCfg({
      ZOO_DATA_DIR: '/d',
      ZOO_DATA_LOG_DIR: '/l',
      ZOO_TICK_TIME: '1000',
      ZOO_INIT_LIMIT: '10',
      ZOO_SYNC_LIMIT: '4',
      ZOO_AUTOPURGE_SNAPRETAINCOUNT: '7',
      ZOO_AUTOPURGE_PURGEINTERVAL: '24',
      ZOO_MAX_CLIENT_CNXNS: '0',
      ZOO_STANDALONE_ENABLED: 'False',
      ZOO_ADMINSERVER_ENABLED: 'false',
      ZOO_4LW_COMMANDS_WHITELIST: 'srvr, ruok,mntr',
    }),
  );
  assert.equal(cfg.get('dataDir'), '/d');
  assert.equal(cfg.get('dataLogDir'), '/l');
  assert.equal(cfg.get('tickTime'), '1000');
  assert.equal(cfg.get('initLimit'), '10');
  assert.equal(cfg.get('syncLimit'), '4');
  assert.equal(cfg.get('autopurge.snapRetainCount'), '7');
  assert.equal(cfg.get('autopurge.purgeInterval'), '24');
  assert.equal(cfg.get('maxClientCnxns'), '0');
  assert.equal(cfg.get('standaloneEnabled'), 'false');
  assert.equal(cfg.get('admin.enableServer'), 'false');
  assert.equal(cfg.get('4lw.commands.whitelist'), 'srvr, ruok,mntr');
});

test('ZOO_SERVERS: space/newline separated server.N entries, written in order', () => {
  const servers = 'server.1=zoo1:2888:3888;2181\n  server.2=zoo2:2888:3888;2181 server.3=zoo3:2888:3888:observer;0.0.0.0:2181';
  const lines = renderZooCfg({ ZOO_SERVERS: servers }).split('\n').filter((l) => l.startsWith('server.'));
  assert.deepEqual(lines, ['server.1=zoo1:2888:3888;2181', 'server.2=zoo2:2888:3888;2181', 'server.3=zoo3:2888:3888:observer;0.0.0.0:2181']);
  // Blank counts as unset, as in the image.
  assert.match(renderZooCfg({ ZOO_SERVERS: '  ' }), /^server\.1=localhost:2888:3888;2181$/m);
});

test('ZOO_CFG_EXTRA entries come last, so they override earlier keys', () => {
  const text = renderZooCfg({ ZOO_CFG_EXTRA: 'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider metricsProvider.httpPort=7000 tickTime=500' });
  const lines = text.trimEnd().split('\n');
  assert.deepEqual(lines.slice(-3), [
    'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider',
    'metricsProvider.httpPort=7000',
    'tickTime=500',
  ]);
  assert.equal(kv(text).get('tickTime'), '500');
});

test('bad values are refused with the variable named, before anything is written', () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ ZOO_TICK_TIME: 'abc' }, 'ZOO_TICK_TIME', /ZOO_TICK_TIME must be a positive integer.*'abc'/],
    [{ ZOO_TICK_TIME: '0' }, 'ZOO_TICK_TIME', /positive integer/],
    [{ ZOO_INIT_LIMIT: '-1' }, 'ZOO_INIT_LIMIT', /ZOO_INIT_LIMIT/],
    [{ ZOO_SYNC_LIMIT: '2.5' }, 'ZOO_SYNC_LIMIT', /ZOO_SYNC_LIMIT/],
    [{ ZOO_MAX_CLIENT_CNXNS: 'many' }, 'ZOO_MAX_CLIENT_CNXNS', /ZOO_MAX_CLIENT_CNXNS/],
    [{ ZOO_AUTOPURGE_PURGEINTERVAL: '1h' }, 'ZOO_AUTOPURGE_PURGEINTERVAL', /hours/],
    [{ ZOO_AUTOPURGE_SNAPRETAINCOUNT: 'x' }, 'ZOO_AUTOPURGE_SNAPRETAINCOUNT', /ZOO_AUTOPURGE_SNAPRETAINCOUNT/],
    [{ ZOO_STANDALONE_ENABLED: 'yes' }, 'ZOO_STANDALONE_ENABLED', /true or false.*'yes'/],
    [{ ZOO_ADMINSERVER_ENABLED: '1' }, 'ZOO_ADMINSERVER_ENABLED', /true or false/],
    [{ ZOO_SERVERS: 'zoo1:2888:3888' }, 'ZOO_SERVERS', /server\.<id>=.*'zoo1:2888:3888'/],
    [{ ZOO_SERVERS: 'server.1=a:1:2;2181,server.2=b:1:2;2181' }, 'ZOO_SERVERS', /separated by spaces/],
    [{ ZOO_SERVERS: 'server.1=a:1:2;2181 server.1=b:1:2;2181' }, 'ZOO_SERVERS', /server\.1 twice/],
    [{ ZOO_CFG_EXTRA: 'snapCount' }, 'ZOO_CFG_EXTRA', /key=value.*'snapCount'/],
    [{ ZOO_4LW_COMMANDS_WHITELIST: 'srvr ruok' }, 'ZOO_4LW_COMMANDS_WHITELIST', /comma-separated/],
    [{ ZOO_DATA_DIR: 'data' }, 'ZOO_DATA_DIR', /absolute path/],
  ];
  for (const [env, variable, message] of cases) {
    assert.throws(
      () => renderZooCfg(env),
      (e: unknown) => e instanceof DockerEnvError && e.variable === variable && message.test(e.message),
      `${JSON.stringify(env)} should be refused naming ${variable}`,
    );
  }
  const root = makeTempDir('zk-docker-bad-');
  for (const myid of ['0', '256', 'one', '-3']) {
    assert.throws(() => prepareDockerConfig({ ...dirsEnv(root), ZOO_MY_ID: myid }), (e: unknown) => e instanceof DockerEnvError && e.variable === 'ZOO_MY_ID' && /1 to 255/.test(e.message));
  }
  assert.throws(() => prepareDockerConfig({ ...dirsEnv(root), ZOO_TICK_TIME: 'x' }), DockerEnvError);
  assert.ok(!fs.existsSync(path.join(root, 'conf', 'zoo.cfg')), 'a refused variable leaves no zoo.cfg');
  assert.ok(!fs.existsSync(path.join(root, 'data', 'myid')), 'a refused variable leaves no myid');
  // A ZooKeeper-level refusal (found by the server's parser, after the scratch copy was made).
  assert.throws(() => prepareDockerConfig({ ...dirsEnv(root), ZOO_CFG_EXTRA: 'clientPort=99999' }), DockerEnvError);
  assert.deepEqual(fs.readdirSync(path.join(root, 'conf')), [], 'no zoo.cfg and no scratch directory left behind');
});

test('a quorum whose ZOO_SERVERS lacks this member, or gives no client port, is refused by name', () => {
  const root = makeTempDir('zk-docker-quorum-');
  const servers = 'server.1=zoo1:2888:3888;2181 server.2=zoo2:2888:3888;2181 server.3=zoo3:2888:3888;2181';
  assert.throws(
    () => prepareDockerConfig({ ...dirsEnv(root), ZOO_SERVERS: servers, ZOO_MY_ID: '4' }),
    (e: unknown) => e instanceof DockerEnvError && /no server\.4 entry/.test(e.message),
  );
  // The 3.4-era form without ';clientPort' leaves the server with no client port at all.
  assert.throws(
    () => prepareDockerConfig({ ...dirsEnv(root), ZOO_SERVERS: 'server.1=zoo1:2888:3888 server.2=zoo2:2888:3888 server.3=zoo3:2888:3888' }),
    (e: unknown) => e instanceof DockerEnvError && /clientPort is not set/.test(e.message),
  );
  // ...which ZOO_CFG_EXTRA can supply, as with the official image.
  const r = prepareDockerConfig({
    ...dirsEnv(root),
    ZOO_MY_ID: '2',
    ZOO_SERVERS: 'server.1=zoo1:2888:3888 server.2=zoo2:2888:3888 server.3=zoo3:2888:3888',
    ZOO_CFG_EXTRA: 'clientPort=2181',
  });
  assert.equal(r.wroteCfg, true);
  assert.equal(fs.readFileSync(path.join(root, 'data', 'myid'), 'utf8'), '2\n');
  assert.equal(kv(fs.readFileSync(r.cfgPath, 'utf8')).get('clientPort'), '2181');
});

test('writes zoo.cfg and myid when absent, and keeps both when present', () => {
  const root = makeTempDir('zk-docker-keep-');
  const env = { ...dirsEnv(root), ZOO_MY_ID: '3', ZOO_SERVERS: 'server.1=a:2888:3888;2181 server.2=b:2888:3888;2181 server.3=c:2888:3888;2181' };
  const first = prepareDockerConfig(env);
  assert.deepEqual([first.wroteCfg, first.wroteMyId, first.myid], [true, true, '3']);
  for (const d of ['conf', 'data', 'datalog', 'logs']) assert.ok(fs.statSync(path.join(root, d)).isDirectory(), `${d} created`);
  assert.deepEqual(fs.readdirSync(path.join(root, 'conf')), ['zoo.cfg'], 'the check leaves no scratch directory');
  const written = fs.readFileSync(first.cfgPath, 'utf8');
  assert.equal(written, renderZooCfg(env));
  assert.equal(fs.readFileSync(first.myidPath, 'utf8'), '3\n');

  // A restart with other variables changes nothing on disk, and says why.
  const operatorCfg = `${written}# edited by the operator\nsnapCount=5000\n`;
  fs.writeFileSync(first.cfgPath, operatorCfg);
  const second = prepareDockerConfig({ ...env, ZOO_MY_ID: '2', ZOO_TICK_TIME: '999' });
  assert.deepEqual([second.wroteCfg, second.wroteMyId, second.myid], [false, false, '3']);
  assert.equal(fs.readFileSync(first.cfgPath, 'utf8'), operatorCfg);
  assert.equal(fs.readFileSync(first.myidPath, 'utf8'), '3\n');
  assert.ok(second.notes.some((n) => /ZOO_MY_ID=2 is ignored/.test(n)), second.notes.join('\n'));
  assert.ok(second.notes.some((n) => /exists; the ZOO_\* settings are not applied/.test(n)), second.notes.join('\n'));
  // A kept zoo.cfg is not re-validated against the variables: a bad one no longer matters.
  assert.doesNotThrow(() => prepareDockerConfig({ ...env, ZOO_TICK_TIME: 'bad' }));
});

test('CLI: --print shows the config; a bad variable exits 1 with one line naming it', () => {
  const print = spawnSync(process.execPath, [path.join(CLI_DIR, 'dockerEntryCli.js'), '--print'], {
    env: { ...process.env, ZOO_TICK_TIME: '1500', ZOO_SERVERS: '' },
    encoding: 'utf8',
  });
  assert.equal(print.status, 0, print.stderr);
  assert.equal(kv(print.stdout).get('tickTime'), '1500');
  const root = makeTempDir('zk-docker-cli-');
  const bad = spawnSync(process.execPath, [path.join(CLI_DIR, 'dockerEntryCli.js')], {
    env: { ...process.env, ...dirsEnv(root), ZOO_SYNC_LIMIT: 'two' },
    encoding: 'utf8',
  });
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, "zk-docker-entry: ZOO_SYNC_LIMIT must be a positive integer (ticks), got 'two'\n");
  assert.equal(bad.stdout, '');
});

test('the image entrypoint script configures from ZOO_* and execs zk-server, which serves and stops on SIGTERM', async () => {
  const root = makeTempDir('zk-docker-run-');
  const port = await freePort();
  const adminPort = await freePort();
  // The image's PATH has zk-server and zk-docker-entry; here they are the compiled scripts.
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin);
  for (const [name, file] of [['zk-server', 'zk-server.js'], ['zk-docker-entry', 'dockerEntryCli.js']] as const) {
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${path.join(CLI_DIR, file)}" "$@"\n`, { mode: 0o755 });
  }
  const script = path.resolve(CLI_DIR, '../../../deploy/docker/docker-entrypoint.sh');
  const env = {
    ...process.env,
    ...dirsEnv(root),
    PATH: `${bin}:${process.env.PATH}`,
    ZOO_SERVERS: `server.1=localhost:2888:3888;127.0.0.1:${port}`,
    ZOO_4LW_COMMANDS_WHITELIST: 'ruok,srvr',
    ZOO_CFG_EXTRA: `admin.serverPort=${adminPort} admin.serverAddress=127.0.0.1`,
    ZOO_LOG_LEVEL: 'WARN',
  };
  delete (env as Record<string, string | undefined>).ZOO_LOG4J_PROP;
  const child = spawn('/bin/sh', [script, 'zk-server', 'start-foreground'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    let answer = '';
    for (let i = 0; i < 200 && answer !== 'imok'; i++) {
      answer = await fourLetterWord('127.0.0.1', port, 'ruok', 1000).catch(() => '');
      if (answer !== 'imok') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(answer, 'imok', out);
    const ready = await fetch(`http://127.0.0.1:${adminPort}/ready`);
    assert.equal(ready.status, 200);
    assert.match(out, /zk-docker-entry: wrote .*zoo\.cfg/);
    // ZOO_LOG_LEVEL=WARN (the 3.8 image's variable) reached the server: no INFO lines.
    assert.doesNotMatch(out, / INFO /);
  } finally {
    // exec: the shell became the server, so the signal reaches it directly.
    child.kill('SIGTERM');
  }
  const code = await exited;
  assert.equal(code, 0, `exit code after SIGTERM; output:\n${out}`);
});
