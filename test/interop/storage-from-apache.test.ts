// Migration from Apache ZooKeeper: a data directory written by Apache ZooKeeper 3.8 is served by
// our server exactly as Apache served it (every path, data, ACL and Stat field), whether the
// directory holds snapshots and logs, logs only, or a snapshot only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apacheZkAvailable, startApacheZk } from '../support/ApacheZk.js';
import { ourZkAvailable, startOurZk, type RunningServer } from '../support/OurZk.js';
import { ZooKeeper } from '../../src/client/index.js';

type Tree = Record<string, { data: string | null; stat: unknown; acl: unknown }>;

async function readTree(connectString: string): Promise<Tree> {
  const zk = await ZooKeeper.connect(connectString, { sessionTimeout: 10000 });
  try {
    await zk.addAuth('digest', 'super:admin');
    const out: Tree = {};
    const walk = async (p: string): Promise<void> => {
      const { data, stat } = await zk.getData(p);
      const { acl } = await zk.getACL(p);
      out[p] = { data: data === null ? null : data.toString('hex'), stat: { ...stat, ephemeralOwner: String(stat.ephemeralOwner) }, acl };
      for (const c of (await zk.getChildren(p)).sort()) await walk(p === '/' ? `/${c}` : `${p}/${c}`);
    };
    await walk('/');
    return out;
  } finally {
    await zk.close();
  }
}

async function writeWorkload(connectString: string): Promise<void> {
  const zk = await ZooKeeper.connect(connectString, { sessionTimeout: 10000 });
  try {
    await zk.addAuth('digest', 'alice:secret');
    await zk.create('/app', Buffer.from('root'));
    for (let i = 0; i < 30; i++) await zk.create(`/app/n${i}`, Buffer.from(`v${i}`));
    for (let i = 0; i < 30; i += 3) await zk.setData(`/app/n${i}`, Buffer.from(`w${i}`));
    for (let i = 1; i < 30; i += 5) await zk.delete(`/app/n${i}`);
    await zk.create('/app/seq-', null, { mode: 'PERSISTENT_SEQUENTIAL' });
    await zk.create('/app/seq-', Buffer.alloc(0), { mode: 'PERSISTENT_SEQUENTIAL' });
    await zk.create('/secret', Buffer.from('s'), { acl: [{ perms: 31, id: { scheme: 'auth', id: '' } }] });
    await zk.setACL('/app/n0', [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }, { perms: 31, id: { scheme: 'ip', id: '127.0.0.0/8' } }]);
    await zk.create('/box', null, { mode: 'CONTAINER' });
    await zk.create('/box/item', null);
    await zk.create('/ttl', null, { mode: 'PERSISTENT_WITH_TTL', ttl: 3_600_000 });
    await zk.create('/eph', null, { mode: 'EPHEMERAL' });
    await zk.multi([
      { type: 'create', path: '/m', data: Buffer.from('m'), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], mode: 0 },
      { type: 'setData', path: '/app', data: Buffer.from('root2'), version: -1 },
    ]);
    await zk.create('/zookeeper/quota/app', null);
    await zk.create('/zookeeper/quota/app/zookeeper_limits', Buffer.from('count=100,bytes=-1'));
    await zk.create('/zookeeper/quota/app/zookeeper_stats', Buffer.from('count=0,bytes=0'));
    await zk.create('/app/after-quota', Buffer.from('q'));
  } finally {
    await zk.close(); // the ephemeral goes with the session
  }
}

function copyDir(src: string): string {
  const dst = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-migrate-'));
  fs.cpSync(src, dst, { recursive: true });
  fs.rmSync(path.join(dst, 'zookeeper_server.pid'), { force: true });
  return dst;
}

const skip = (!apacheZkAvailable() || !ourZkAvailable()) && 'Apache ZooKeeper or our build missing';
const superDigest = { env: { SERVER_JVMFLAGS: '-Dzookeeper.DigestAuthenticationProvider.superDigest=super:xQJmxLMiHGwaqBvst5y6rkB6HQs=' } };

test('our server serves an Apache-written data directory: snapshots+logs, logs only, snapshot only', { skip, timeout: 180_000 }, async () => {
  let apache: RunningServer | null = await startApacheZk({
    extraConfig: { snapCount: 10 },
    // preAllocSize in KiB: Apache's 64 MiB log padding would make each copy of the directory ~1 GB.
    jvmFlags: ['-Dzookeeper.DigestAuthenticationProvider.superDigest=super:xQJmxLMiHGwaqBvst5y6rkB6HQs=', '-Dzookeeper.preAllocSize=256'],
  });
  const dataDir = apache.dataDir;
  const dirs: string[] = [];
  try {
    await writeWorkload(apache.connectString);
    const expected = await readTree(apache.connectString);
    assert.ok(Object.keys(expected).length > 30, 'the workload built a tree');
    await apache.stop({ keepDataDir: true });
    apache = null;
    const v2 = (d: string) => path.join(d, 'version-2');
    const names = fs.readdirSync(v2(dataDir));
    assert.ok(names.filter((n) => n.startsWith('snapshot.')).length >= 2, `Apache took snapshots: ${names.join(' ')}`);

    const variants: Array<[string, (d: string) => void]> = [
      ['snapshots + logs', () => {}],
      ['logs only', (d) => { for (const f of fs.readdirSync(v2(d))) if (f.startsWith('snapshot.')) fs.rmSync(path.join(v2(d), f)); }],
    ];
    for (const [name, prepare] of variants) {
      const d = copyDir(dataDir);
      dirs.push(d);
      prepare(d);
      const ours = await startOurZk({ dataDir: d, ...superDigest });
      try {
        assert.deepEqual(await readTree(ours.connectString), expected, `tree served from ${name}`);
      } finally {
        await ours.stop({ keepDataDir: true });
      }
    }

    // Snapshot only: Apache snapshots everything when it starts on the directory; drop the logs.
    apache = await startApacheZk({ dataDir, jvmFlags: ['-Dzookeeper.DigestAuthenticationProvider.superDigest=super:xQJmxLMiHGwaqBvst5y6rkB6HQs='] });
    await apache.stop({ keepDataDir: true });
    apache = null;
    const d = copyDir(dataDir);
    dirs.push(d);
    for (const f of fs.readdirSync(v2(d))) if (f.startsWith('log.')) fs.rmSync(path.join(v2(d), f));
    const ours = await startOurZk({ dataDir: d, ...superDigest });
    try {
      assert.deepEqual(await readTree(ours.connectString), expected, 'tree served from a snapshot alone');
    } finally {
      await ours.stop({ keepDataDir: true });
    }
  } finally {
    await apache?.stop({ keepDataDir: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
});
