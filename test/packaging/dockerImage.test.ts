// Builds the image and runs it: configured from ZOO_* as the official image, it answers ruok on
// the client port and 200 on /ready, runs as a non-root user, and `docker stop` (SIGTERM) ends it
// with exit code 0. Skipped when there is no Docker daemon to talk to, or when no Node 20 base image
// can be had: the Dockerfile's default (node:20-alpine) when it is present or can be pulled, else
// ZK_DOCKER_BASE_IMAGE, else the stand-in local/node:20 that scripts/docker-local-base.sh makes
// where Docker Hub is out of reach.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fourLetterWord } from '../support/ServerProcess.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// A tag of this run's own: several worktrees may run this test against one daemon at once, and a
// shared tag could start another worktree's build.
const IMAGE = `zookeeper-ts:test-${process.pid}-${Date.now().toString(36)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function docker(args: string[], timeoutMs = 60000) {
  return spawnSync('docker', args, { encoding: 'utf8', timeout: timeoutMs, cwd: REPO });
}

function daemonAbsent(): string | false {
  const r = docker(['info', '--format', '{{.ServerVersion}}'], 20000);
  if (r.error) return `docker is not installed (${r.error.message})`;
  if (r.status !== 0) return `no Docker daemon: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
  return false;
}

const DEFAULT_BASE = 'node:20-alpine';
const STAND_IN_BASE = 'local/node:20';

const imagePresent = (name: string) => docker(['image', 'inspect', name], 20000).status === 0;

/** The base image to build on, or why there is none. An explicit choice is never second-guessed. */
function chooseBase(): { base: string } | { none: string } {
  const chosen = process.env.ZK_DOCKER_BASE_IMAGE;
  if (chosen) return imagePresent(chosen) || docker(['pull', chosen], 300000).status === 0
    ? { base: chosen }
    : { none: `ZK_DOCKER_BASE_IMAGE=${chosen} is neither present nor pullable` };
  if (imagePresent(DEFAULT_BASE)) return { base: DEFAULT_BASE };
  if (imagePresent(STAND_IN_BASE)) return { base: STAND_IN_BASE };
  if (docker(['pull', DEFAULT_BASE], 300000).status === 0) return { base: DEFAULT_BASE };
  return { none: `${DEFAULT_BASE} cannot be pulled and there is no ${STAND_IN_BASE} (make one with scripts/docker-local-base.sh)` };
}

const skip = daemonAbsent();

test('the image builds, serves ruok and /ready as a non-root user, and stops cleanly', { skip, timeout: 900000 }, async (t) => {
  const chosen = chooseBase();
  if ('none' in chosen) {
    t.skip(chosen.none);
    return;
  }
  t.diagnostic(`base image: ${chosen.base}`);
  const build = docker(['build', '--build-arg', `NODE_IMAGE=${chosen.base}`, '-t', IMAGE, '.'], 840000);
  try {
    assert.equal(build.status, 0, `docker build failed:\n${build.stdout}\n${build.stderr}`);
    await runImage();
  } finally {
    // The build stage's layers stay in the daemon's cache; only this run's tag and image go.
    docker(['rmi', '-f', IMAGE]);
  }
});

async function runImage(): Promise<void> {
  const run = docker([
    'run', '-d',
    '-p', '127.0.0.1::2181',
    '-p', '127.0.0.1::8080',
    '-e', 'ZOO_4LW_COMMANDS_WHITELIST=ruok,srvr',
    '-e', 'ZOO_TICK_TIME=1000',
    IMAGE,
  ]);
  assert.equal(run.status, 0, run.stderr);
  const id = run.stdout.trim();
  try {
    const portOf = (p: number) => {
      const r = docker(['port', id, `${p}/tcp`]);
      assert.equal(r.status, 0, r.stderr);
      return Number(/:(\d+)\s*$/m.exec(r.stdout)![1]);
    };
    const client = portOf(2181);
    const admin = portOf(8080);
    let answer = '';
    for (let i = 0; i < 300 && answer !== 'imok'; i++) {
      answer = await fourLetterWord('127.0.0.1', client, 'ruok', 1000).catch(() => '');
      if (answer !== 'imok') await sleep(200);
    }
    assert.equal(answer, 'imok', docker(['logs', id]).stdout + docker(['logs', id]).stderr);
    assert.equal((await fetch(`http://127.0.0.1:${admin}/ready`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${admin}/console/`)).status, 200, 'the image carries the console files');
    const user = docker(['exec', id, 'id', '-u']);
    assert.notEqual(user.stdout.trim(), '0', 'the server does not run as root');
    // The server itself is PID 1 (the entrypoint execs it), so SIGTERM from `docker stop` reaches it.
    const pid1 = docker(['exec', id, 'cat', '/proc/1/cmdline']);
    assert.match(pid1.stdout.replace(/\0/g, ' '), /^node .*zk-server(\.js)? start-foreground/);
    assert.match(docker(['exec', id, 'grep', '^Uid:', '/proc/1/status']).stdout, /^Uid:\s+[1-9]\d*\s/);
    const cfg = docker(['exec', id, 'cat', '/conf/zoo.cfg']);
    assert.match(cfg.stdout, /^tickTime=1000$/m);
    assert.match(cfg.stdout, /^4lw\.commands\.whitelist=ruok,srvr$/m);
    assert.equal(docker(['exec', id, 'cat', '/data/myid']).stdout, '1\n');
    // Snapshots go to the /data volume and the transaction log to /datalog, not the container layer.
    const mounts = docker(['inspect', '-f', '{{range .Mounts}}{{.Destination}} {{end}}', id]).stdout.split(/\s+/);
    for (const dir of ['/data', '/datalog', '/logs']) assert.ok(mounts.includes(dir), `${dir} is a volume (${mounts.join(',')})`);
    const create = docker(['exec', id, 'zk-cli', '-server', '127.0.0.1:2181', 'create', '/in-volume', 'x']);
    assert.match(create.stdout + create.stderr, /Created \/in-volume/);
    assert.match(docker(['exec', id, 'ls', '/data/version-2']).stdout, /^snapshot\.0$/m);
    assert.match(docker(['exec', id, 'ls', '/datalog/version-2']).stdout, /^log\.1$/m);
    const stop = docker(['stop', '-t', '30', id], 60000);
    assert.equal(stop.status, 0, stop.stderr);
    const code = docker(['inspect', '-f', '{{.State.ExitCode}}', id]);
    assert.equal(code.stdout.trim(), '0', `exit code after docker stop; logs:\n${docker(['logs', id]).stdout}`);
  } finally {
    docker(['rm', '-f', '-v', id]);
  }
}
