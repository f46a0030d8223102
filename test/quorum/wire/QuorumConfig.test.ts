// The membership text: parsing the zoo.cfg forms, rendering exactly what Apache renders (checked
// against the recorded notifications and against Apache's own QuorumMaj run as an oracle), and
// errors that name the offending line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  QuorumConfigError, javaHashMapOrder, javaIpv6Text, parseMember, parseQuorumConfig, renderQuorumConfig,
} from '../../../src/quorum/wire/QuorumConfig.js';
import { loadVectorFile } from './vectors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** zoo.cfg `server.N` lines → rendered text, the way a member announces its static config. */
function renderCfgLines(lines: string[], version = 0n): string {
  const members = lines.map((l) => {
    const m = /^server\.(\d+)=(.*)$/.exec(l)!;
    return parseMember(Number(m[1]), m[2]!);
  });
  return renderQuorumConfig({ members, version });
}

test('member 1 zoo.cfg lines render to the exact text member 1 sent in its notifications', () => {
  // From the capture's README: each member's own line has its real ports, the others the proxy's.
  const cfg1 = ['server.1=127.0.0.1:37111:37121', 'server.2=127.0.0.1:37132:37142', 'server.3=127.0.0.1:37133:37143', 'server.4=127.0.0.1:37134:37144:observer'];
  const file = loadVectorFile('election-initial.jsonl');
  const sent = file.frames.filter((f) => f.kind === 'message' && f.from === 1).map((f) => f.decoded.notification.config as string);
  assert.ok(sent.length > 0);
  for (const text of sent) assert.equal(renderCfgLines(cfg1), text);
  const parsed = parseQuorumConfig(sent[0]!);
  assert.equal(parsed.version, 0n);
  assert.deepEqual(parsed.members.map((m) => [m.sid, m.role, m.addresses[0]!.quorumPort, m.addresses[0]!.electionPort]), [
    [1, 'participant', 37111, 37121], [2, 'participant', 37132, 37142], [3, 'participant', 37133, 37143], [4, 'observer', 37134, 37144],
  ]);
});

test('parse: client parts, roles, IPv6, multi-address', () => {
  assert.deepEqual(parseMember(2, 'h:1:2;2181').client, { host: '0.0.0.0', port: 2181 });
  assert.deepEqual(parseMember(2, 'h:1:2:observer;10.0.0.1:2181'), {
    sid: 2, addresses: [{ host: 'h', quorumPort: 1, electionPort: 2 }], role: 'observer', client: { host: '10.0.0.1', port: 2181 },
  });
  assert.deepEqual(parseMember(3, '[fe80::1]:1:2:participant;[::1]:9').addresses, [{ host: 'fe80::1', quorumPort: 1, electionPort: 2 }]);
  assert.deepEqual(parseMember(3, '[fe80::1]:1:2:participant;[::1]:9').client, { host: '::1', port: 9 });
  assert.equal(parseMember(4, 'a:1:2|b:3:4:participant').addresses.length, 2);
  assert.equal(renderQuorumConfig({ members: [parseMember(4, 'a:1:2|b:3:4')], version: 0x100000000n }), 'server.4=a:1:2|b:3:4:participant\nversion=100000000');
});

test('parse errors name the line', () => {
  assert.throws(() => parseMember(1, 'h:1:2:witness'), (e: unknown) => e instanceof QuorumConfigError && /unknown server role "witness" in "server.1=h:1:2:witness"/.test(e.message));
  assert.throws(() => parseMember(1, 'h:1'), /expected host:quorumPort:electionPort in "server.1=h:1"/);
  assert.throws(() => parseMember(1, 'h:x:2'), /quorum port "x" is not a number/);
  assert.throws(() => parseMember(1, 'h:1:70000'), /election port 70000 out of range/);
  assert.throws(() => parseMember(1, '[::1:1:2'), /unterminated IPv6/);
  assert.throws(() => parseQuorumConfig('server.1=h:1:2\nserver.1=h:3:4'), /server.1 appears twice/);
  assert.throws(() => parseQuorumConfig('server.1=h:1:2\nversion=zz'), /version "zz" is not hexadecimal/);
  assert.throws(() => parseQuorumConfig('server.1=h:1:2\njunk'), /no "=" in config line "junk"/);
});

test('IPv6 literals are written the way Java prints them', () => {
  assert.equal(javaIpv6Text('::1'), '0:0:0:0:0:0:0:1');
  assert.equal(javaIpv6Text('2001:DB8::0001'), '2001:db8:0:0:0:0:0:1');
  assert.equal(javaIpv6Text('::ffff:10.0.0.1'), '10.0.0.1');
  assert.equal(javaIpv6Text('::'), '0:0:0:0:0:0:0:0');
  assert.equal(javaIpv6Text('1:2:3:4:5:6:7:8'), '1:2:3:4:5:6:7:8');
  assert.equal(javaIpv6Text('1:2:3'), null);
  assert.equal(javaIpv6Text('host'), null);
});

test('member order follows java.util.HashMap iteration', () => {
  assert.deepEqual(javaHashMapOrder([3, 1, 2]), [1, 2, 3]);
  assert.deepEqual(javaHashMapOrder([1, 2, 18]), [1, 2, 18]);
  assert.deepEqual(javaHashMapOrder([1, 16, 17]), [16, 1, 17]);
  // 13 members grow the table to 32 buckets: 33 shares bucket 1 with sid 1 and, being earlier in
  // the Properties' order, comes first (what Apache 3.8.0 printed for this ensemble).
  const many = [...Array.from({ length: 12 }, (_, i) => i + 1), 33];
  assert.deepEqual(javaHashMapOrder(many), [33, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
});

// ----------------------------------------------------------------------------- Apache as oracle

const CP = ['/usr/share/java/zookeeper.jar', '/usr/share/java/zookeeper-jute.jar'];
const haveJava = spawnSync('javac', ['-version']).status === 0 && CP.every((p) => fs.existsSync(p));

const ORACLE_CASES: string[][] = [
  ['server.1=127.0.0.1:37111:37121', 'server.2=127.0.0.1:37132:37142', 'server.3=127.0.0.1:37133:37143', 'server.4=127.0.0.1:37134:37144:observer'],
  ['server.18=h:1:2', 'server.2=h:3:4;2181', 'server.1=[::1]:5:6:participant;[::1]:7', 'version=1a'],
  Array.from({ length: 20 }, (_, i) => `server.${i + 1}=10.0.0.${i + 1}:2888:3888${i % 5 === 4 ? ':observer' : ''}`),
  ['server.1=a:1:2', 'server.16=b:1:2', 'server.17=c:1:2', 'server.32=d:1:2', 'server.255=e:1:2', 'server.256=f:1:2'],
  ['server.65537=a:1:2', 'server.4294967297=b:1:2', 'server.3=c:1:2;127.0.0.1:2181', 'version=100000000'],
  ['server.1=[fe80::1:2]:2888:3888:observer;[2001:db8::]:2181', 'server.2=[::ffff:10.0.0.1]:2888:3888', 'server.3=zk3.example.com:2888:3888;zk3.example.com:2181'],
  Array.from({ length: 13 }, (_, i) => `server.${[1, 33, 65, 2, 34, 3, 4, 5, 6, 7, 8, 9, 10][i]}=h${i}:1:2`),
  [...Array.from({ length: 12 }, (_, i) => `server.${i + 1}=h:1:2`), 'server.33=h:1:2'],
  Array.from({ length: 40 }, (_, i) => `server.${(i * 37) % 300 + 1}=10.1.${i}.1:2888:3888`),
];

test('our renderer agrees with Apache QuorumMaj.toString on varied ensembles', { skip: haveJava ? false : 'javac or the Debian ZooKeeper jars are missing' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qwire-oracle-'));
  try {
    const src = path.join(root, 'test', 'quorum', 'wire', 'oracle', 'RenderConfig.java');
    const cp = CP.join(':');
    const javac = spawnSync('javac', ['-d', dir, '-cp', cp, src], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(javac.status, 0, javac.stderr);
    const input = ORACLE_CASES.map((c) => c.join('\n') + '\n--\n').join('');
    const run = spawnSync('java', ['-cp', `${cp}:${dir}`, 'RenderConfig'], { input, encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr);
    const apache = run.stdout.split('\n\u0000\n');
    assert.equal(apache.length, ORACLE_CASES.length + 1);
    ORACLE_CASES.forEach((c, i) => {
      const version = c.find((l) => l.startsWith('version='));
      const ours = renderCfgLines(c.filter((l) => l.startsWith('server.')), version ? BigInt('0x' + version.slice(8)) : 0n);
      assert.equal(ours, apache[i], `case ${i}`);
      // And a received text re-renders to itself.
      assert.equal(renderQuorumConfig(parseQuorumConfig(apache[i]!)), apache[i]);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
