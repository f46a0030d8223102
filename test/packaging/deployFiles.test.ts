// The deployment files agree with the code they drive: the Dockerfile's defaults with the
// entrypoint's, the compose and Kubernetes members' variables make valid member configs (and the
// StatefulSet's myid really is the pod ordinal + 1), the systemd unit says what it must, and a
// 3-member ensemble configured only through the image's variables and entrypoint elects a leader
// and serves, on this machine, without Docker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOCKER_ENV_DEFAULTS, prepareDockerConfig } from '../../src/cli/dockerEntry.js';
import { loadZooCfg } from '../../src/config/ZooCfg.js';
import { fourLetterWord, freePort, makeTempDir } from '../support/ServerProcess.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (f: string) => fs.readFileSync(path.join(REPO, f), 'utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function dirsEnv(root: string): Record<string, string> {
  return {
    ZOO_CONF_DIR: path.join(root, 'conf'),
    ZOO_DATA_DIR: path.join(root, 'data'),
    ZOO_DATA_LOG_DIR: path.join(root, 'datalog'),
    ZOO_LOG_DIR: path.join(root, 'logs'),
  };
}

test('Dockerfile: the entrypoint defaults, non-root, volumes and ports', () => {
  const df = read('Dockerfile');
  const runtime = df.slice(df.lastIndexOf('\nFROM '));
  for (const [name, value] of Object.entries(DOCKER_ENV_DEFAULTS)) {
    assert.match(runtime, new RegExp(`\\b${name}=${value.replace(/\//g, '\\/')}\\b`), `ENV ${name}=${value}`);
  }
  assert.match(runtime, /ZOOCFGDIR=\/conf/);
  assert.match(runtime, /^USER node$/m, 'runs as the unprivileged node user');
  assert.match(runtime, /^VOLUME \["\/data", "\/datalog", "\/logs"\]$/m);
  assert.match(runtime, /^EXPOSE 2181 2888 3888 8080 7000$/m);
  assert.match(runtime, /^ENTRYPOINT \["zk-entrypoint\.sh"\]$/m);
  assert.match(runtime, /^CMD \["zk-server", "start-foreground"\]$/m);
  // The files the build stage copies exist (a renamed file would only show at `docker build`).
  for (const m of df.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
    for (const src of m[1]!.split(/\s+/)) assert.ok(fs.existsSync(path.join(REPO, src)), `COPY source ${src} exists`);
  }
  const ignored = read('.dockerignore').split('\n').filter((l) => l && !l.startsWith('#'));
  for (const needed of ['src', 'scripts', 'deploy', 'package.json']) assert.ok(!ignored.includes(needed), `${needed} is not in .dockerignore`);
});

test('docker-compose.yml: each member variables make a valid member of the same 3-server ensemble', () => {
  const compose = read('docker-compose.yml');
  const servers = /^\s*ZOO_SERVERS: (.+)$/m.exec(compose)![1]!;
  const extra = /^\s*ZOO_CFG_EXTRA: (.+)$/m.exec(compose)![1]!;
  const whitelist = /^\s*ZOO_4LW_COMMANDS_WHITELIST: (.+)$/m.exec(compose)![1]!;
  const ids = [...compose.matchAll(/ZOO_MY_ID: "(\d+)"/g)].map((m) => m[1]!);
  assert.deepEqual(ids, ['1', '2', '3']);
  for (const id of ids) {
    const root = makeTempDir(`zk-compose-${id}-`);
    const r = prepareDockerConfig({ ...dirsEnv(root), ZOO_SERVERS: servers, ZOO_CFG_EXTRA: extra, ZOO_4LW_COMMANDS_WHITELIST: whitelist, ZOO_MY_ID: id });
    const cfg = loadZooCfg(r.cfgPath);
    assert.equal(cfg.standalone, false);
    assert.equal(cfg.serverId, Number(id));
    assert.deepEqual([...cfg.servers!.keys()], [1, 2, 3]);
    assert.equal(cfg.servers!.get(Number(id))!.addresses[0]!.host, `zoo${id}`);
    assert.equal(cfg.clientPort, 2181);
    assert.equal(cfg.raw.get('metricsProvider.httpPort'), '7000');
    fs.rmSync(root, { recursive: true, force: true });
  }
  assert.equal([...compose.matchAll(/hostname: zoo(\d)/g)].length, 3);
});

test('Kubernetes StatefulSet: myid is the pod ordinal + 1 and every member config is valid', () => {
  const k8s = read('deploy/kubernetes/zookeeper-ts.yaml');
  const command = /- sh\n\s+- -c\n\s+- '(.+)'$/m.exec(k8s)![1]!;
  const servers = [...k8s.matchAll(/^\s+(server\.\d+=\S+)$/gm)].map((m) => m[1]!).join(' ');
  assert.equal(servers.split(' ').length, 3);
  // Run the container's command with the entrypoint replaced by a stand-in that reports ZOO_MY_ID.
  const bin = makeTempDir('zk-k8s-bin-');
  fs.writeFileSync(path.join(bin, 'zk-entrypoint.sh'), '#!/bin/sh\necho "$ZOO_MY_ID $*"\n', { mode: 0o755 });
  for (const ordinal of [0, 1, 2]) {
    const r = spawnSync('/bin/sh', ['-c', command], { env: { PATH: `${bin}:/usr/bin:/bin`, HOSTNAME: `zk-${ordinal}` }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${ordinal + 1} zk-server start-foreground\n`);
    const root = makeTempDir(`zk-k8s-${ordinal}-`);
    const p = prepareDockerConfig({ ...dirsEnv(root), ZOO_SERVERS: servers, ZOO_MY_ID: String(ordinal + 1), ZOO_INIT_LIMIT: '10', ZOO_SYNC_LIMIT: '5' });
    const cfg = loadZooCfg(p.cfgPath);
    assert.equal(cfg.servers!.get(ordinal + 1)!.addresses[0]!.host, `zk-${ordinal}.zk-hs.default.svc.cluster.local`);
    fs.rmSync(root, { recursive: true, force: true });
  }
  fs.rmSync(bin, { recursive: true, force: true });
  assert.match(k8s, /readinessProbe:\n\s+httpGet: \{ path: \/ready, port: admin \}/);
  assert.match(k8s, /publishNotReadyAddresses: true/);
  assert.match(k8s, /podManagementPolicy: Parallel/);
  // Every mount has a volume (pod volume or claim template), and every directory the server or the
  // entrypoint writes is mounted, since the root filesystem is read-only.
  const mounts = [...k8s.matchAll(/- \{ name: (\w+), mountPath: (\S+) \}/g)].map((m) => [m[1]!, m[2]!] as const);
  const volumes = new Set([...k8s.matchAll(/^\s+- name: (\w+)\n\s+emptyDir/gm), ...k8s.matchAll(/- metadata: \{ name: (\w+) \}/g)].map((m) => m[1]!));
  for (const [name] of mounts) assert.ok(volumes.has(name), `volume for mount ${name}`);
  assert.match(k8s, /readOnlyRootFilesystem: true/);
  assert.deepEqual(mounts.map(([, p]) => p).sort(), ['/conf', '/data', '/datalog', '/logs', '/tmp']);
});

test('systemd unit: restarts on failure, stops with SIGTERM, runs the server in the foreground', () => {
  const unit = read('deploy/systemd/zookeeper-ts.service');
  const service = unit.slice(unit.indexOf('[Service]'), unit.indexOf('[Install]'));
  assert.match(service, /^Restart=on-failure$/m);
  assert.match(service, /^KillSignal=SIGTERM$/m);
  assert.match(service, /^ExecStart=.*zk-server start-foreground/m);
  assert.match(service, /^Type=simple$/m);
  // The sample zoo.cfg beside it is one the server accepts, with dataDir the unit's StateDirectory.
  const cfgText = read('deploy/systemd/zoo.cfg');
  const state = /^StateDirectory=(.+)$/m.exec(service)![1]!;
  assert.match(cfgText, new RegExp(`^dataDir=/var/lib/${state}$`, 'm'));
  const root = makeTempDir('zk-systemd-');
  fs.writeFileSync(path.join(root, 'zoo.cfg'), cfgText.replace(/^dataDir=.*$/m, `dataDir=${root}`));
  assert.equal(loadZooCfg(path.join(root, 'zoo.cfg')).clientPort, 2181);
  fs.rmSync(root, { recursive: true, force: true });
  const analyze = spawnSync('systemd-analyze', ['verify', path.join(REPO, 'deploy/systemd/zookeeper-ts.service')], { encoding: 'utf8' });
  if (analyze.error) {
    console.log('# systemd-analyze is not installed: unit syntax not verified');
  } else {
    assert.equal(analyze.status, 0, analyze.stderr);
    assert.equal(analyze.stderr.trim(), '', 'systemd-analyze verify reports nothing');
  }
});

test('a 3-member ensemble configured only through the image variables and entrypoint serves, then stops on SIGTERM', async () => {
  const root = makeTempDir('zk-docker-ensemble-');
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin);
  const cli = path.join(REPO, 'dist/src/cli');
  for (const [name, file] of [['zk-server', 'zk-server.js'], ['zk-docker-entry', 'dockerEntryCli.js']] as const) {
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${path.join(cli, file)}" "$@"\n`, { mode: 0o755 });
  }
  const ports = [];
  for (let i = 0; i < 3; i++) ports.push({ client: await freePort(), quorum: await freePort(), election: await freePort(), admin: await freePort() });
  const servers = ports.map((p, i) => `server.${i + 1}=127.0.0.1:${p.quorum}:${p.election};127.0.0.1:${p.client}`).join(' ');
  const children: { child: ChildProcess; out: string[]; exit: Promise<number | null> }[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const dir = path.join(root, `zoo${i + 1}`);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...dirsEnv(dir),
        PATH: `${bin}:${process.env.PATH}`,
        ZOO_MY_ID: String(i + 1),
        ZOO_SERVERS: servers,
        ZOO_TICK_TIME: '500',
        ZOO_INIT_LIMIT: '20',
        ZOO_SYNC_LIMIT: '10',
        ZOO_4LW_COMMANDS_WHITELIST: 'srvr,ruok',
        ZOO_CFG_EXTRA: `admin.serverAddress=127.0.0.1 admin.serverPort=${ports[i]!.admin}`,
      };
      delete env.ZOO_LOG4J_PROP;
      const child = spawn('/bin/sh', [path.join(REPO, 'deploy/docker/docker-entrypoint.sh'), 'zk-server', 'start-foreground'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: string[] = [];
      child.stdout!.on('data', (d) => out.push(String(d)));
      child.stderr!.on('data', (d) => out.push(String(d)));
      children.push({ child, out, exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))) });
    }
    const modes: string[] = [];
    for (let i = 0; i < 3; i++) {
      let mode = '';
      for (let t = 0; t < 600 && !/^Mode: (leader|follower)$/m.test(mode); t++) {
        mode = await fourLetterWord('127.0.0.1', ports[i]!.client, 'srvr', 1000).catch(() => '');
        if (!/^Mode: (leader|follower)$/m.test(mode)) await sleep(100);
      }
      const m = /^Mode: (leader|follower)$/m.exec(mode);
      assert.ok(m, `member ${i + 1} joined the quorum; srvr said:\n${mode}\n${children[i]!.out.join('')}`);
      modes.push(m[1]!);
      const ready: Response = await fetch(`http://127.0.0.1:${ports[i]!.admin}/ready`);
      assert.equal(ready.status, 200, `member ${i + 1} /ready`);
    }
    assert.deepEqual(modes.filter((m) => m === 'leader').length, 1, `one leader: ${modes.join(',')}`);
    console.log(`# modes: ${modes.join(",")}`);
    for (let i = 0; i < 3; i++) assert.equal(fs.readFileSync(path.join(root, `zoo${i + 1}`, 'data', 'myid'), 'utf8'), `${i + 1}\n`);
  } finally {
    for (const c of children) c.child.kill('SIGTERM');
  }
  for (const [i, c] of children.entries()) {
    assert.equal(await c.exit, 0, `member ${i + 1} exit code after SIGTERM:\n${c.out.join('').slice(-3000)}`);
  }
  fs.rmSync(root, { recursive: true, force: true });
});
