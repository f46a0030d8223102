// zk-server next to Apache ZooKeeper's own bin/zkServer.sh (Debian's zookeeper package): each
// one's `status` must work against the other's server, with the same output.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { apacheZkAvailable, startApacheZk, type RunningServer } from '../support/ApacheZk.js';
import { freePort, makeTempDir } from '../support/ServerProcess.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/zk-server.js');
const ZKSERVER_SH = '/usr/share/zookeeper/bin/zkServer.sh';
const haveApache = apacheZkAvailable() && fs.existsSync(ZKSERVER_SH);

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 60000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('zk-server and zkServer.sh interoperate', { skip: !haveApache && 'Apache ZooKeeper (zookeeper package, java) not installed' }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("zkServer.sh status against our server prints what zk-server status prints", async () => {
    const dir = makeTempDir('zk-interop-cli-');
    const port = await freePort();
    const cfg = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(cfg, `tickTime=2000\ndataDir=${dir}/data\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n`);
    const env = { ZOO_LOG_DIR: dir };
    const started = await run(process.execPath, [CLI, 'start', cfg], env);
    assert.equal(started.stdout, 'Starting zookeeper ... STARTED\n', started.stderr);
    const pid = Number(fs.readFileSync(path.join(dir, 'data', 'zookeeper_server.pid'), 'utf8'));
    cleanups.push(async () => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* stopped by the test */
      }
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const theirs = await run(ZKSERVER_SH, ['status', cfg]);
    const ours = await run(process.execPath, [CLI, 'status', cfg]);
    assert.equal(theirs.code, 0, theirs.stdout + theirs.stderr);
    assert.equal(theirs.stdout, `Client port found: ${port}. Client address: 127.0.0.1. Client SSL: false.\nMode: standalone\n`);
    assert.equal(ours.code, 0);
    assert.equal(ours.stdout, theirs.stdout);

    assert.equal((await run(process.execPath, [CLI, 'stop', cfg])).stdout, 'Stopping zookeeper ... STOPPED\n');
    const theirsDown = await run(ZKSERVER_SH, ['status', cfg]);
    const oursDown = await run(process.execPath, [CLI, 'status', cfg]);
    assert.equal(theirsDown.code, 1);
    assert.equal(oursDown.code, 1);
    assert.equal(oursDown.stdout, theirsDown.stdout);
  });

  it('zk-server status against Apache ZooKeeper', async () => {
    let zk: RunningServer | undefined;
    try {
      zk = await startApacheZk();
      const dir = makeTempDir('zk-interop-cfg-');
      cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
      const cfg = path.join(dir, 'zoo.cfg');
      fs.writeFileSync(cfg, `dataDir=${zk.dataDir}\nclientPort=${zk.port}\nclientPortAddress=127.0.0.1\n`);
      const ours = await run(process.execPath, [CLI, 'status', cfg]);
      assert.equal(ours.code, 0, ours.stdout + ours.stderr);
      assert.equal(ours.stdout, `Client port found: ${zk.port}. Client address: 127.0.0.1. Client SSL: false.\nMode: standalone\n`);
    } finally {
      await zk?.stop();
    }
  });
});
