import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ConfigError,
  loadZooCfg,
  parseJvmFlags,
  parseProperties,
  parseZooCfg,
  readMyId,
} from '../../src/config/ZooCfg.js';
import { ALL_FOUR_LETTER_WORDS } from '../../src/config/ServerConfig.js';

const BASE = 'dataDir=/var/zk\nclientPort=2181\n';

/** Parses with an empty environment and no myid lookup unless asked otherwise. */
function parse(text: string, opts: Parameters<typeof parseZooCfg>[1] = {}) {
  return parseZooCfg(text, { env: {}, ignoreMyId: true, ...opts });
}

function parseError(text: string, opts: Parameters<typeof parseZooCfg>[1] = {}): ConfigError {
  try {
    parse(text, opts);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected a ConfigError for:\n${text}`);
}

describe('parseProperties (java.util.Properties syntax)', () => {
  it('skips # and ! comments and blank lines, and reports 1-based line numbers', () => {
    const lines = parseProperties('# a comment\n\n  ! another\nk1=v1\n\t\nk2=v2\n');
    assert.deepEqual(lines, [
      { key: 'k1', value: 'v1', line: 4 },
      { key: 'k2', value: 'v2', line: 6 },
    ]);
  });

  it('accepts =, : and blanks as separators and trims keys and values', () => {
    const lines = parseProperties('a=1\nb:2\nc 3\nd = 4\ne : 5\n  f\t=\t6  \ng\n');
    assert.deepEqual(
      lines.map((l) => [l.key, l.value]),
      [['a', '1'], ['b', '2'], ['c', '3'], ['d', '4'], ['e', '5'], ['f', '6'], ['g', '']],
    );
  });

  it('keeps a # after the start of a line as part of the value', () => {
    assert.deepEqual(parseProperties('clientPort=2181 # port')[0]!.value, '2181 # port');
  });

  it('joins backslash continuations, dropping the next line\'s leading blanks; the line is where it starts', () => {
    const lines = parseProperties('x=1\nlist=a,\\\n    b,\\\n    c\nafter=2\n');
    assert.deepEqual(lines, [
      { key: 'x', value: '1', line: 1 },
      { key: 'list', value: 'a,b,c', line: 2 },
      { key: 'after', value: '2', line: 5 },
    ]);
  });

  it('an even number of trailing backslashes is an escaped backslash, not a continuation', () => {
    const lines = parseProperties('p=C:\\\\\nq=1\n');
    assert.deepEqual(lines.map((l) => [l.key, l.value]), [['p', 'C:\\'], ['q', '1']]);
  });

  it('a comment line ending in a backslash does not continue', () => {
    const lines = parseProperties('# comment \\\nk=v\n');
    assert.deepEqual(lines.map((l) => [l.key, l.value]), [['k', 'v']]);
  });

  it('decodes escapes in keys and values (\\t \\n \\uXXXX, escaped separators)', () => {
    const [l] = parseProperties('my\\ key\\=x = a\\tb\\u0041\\:c\n');
    assert.equal(l!.key, 'my key=x');
    assert.equal(l!.value, 'a\tbA:c');
  });

  it('rejects a malformed \\u escape naming the line', () => {
    assert.throws(() => parseProperties('a=1\nb=\\u12G4\n', 'my.cfg'), /^ConfigError: my\.cfg:2: malformed \\uxxxx escape$/);
  });

  it('handles CRLF and CR line ends and a UTF-8 byte order mark', () => {
    const lines = parseProperties('\ufeffa=1\r\nb=2\rc=3');
    assert.deepEqual(lines, [
      { key: 'a', value: '1', line: 1 },
      { key: 'b', value: '2', line: 2 },
      { key: 'c', value: '3', line: 3 },
    ]);
  });
});

describe('parseZooCfg defaults', () => {
  it('fills ZooKeeper defaults for everything not in the file', () => {
    const c = parse(BASE);
    assert.equal(c.tickTime, 3000);
    assert.equal(c.dataDir, '/var/zk');
    assert.equal(c.dataLogDir, '/var/zk');
    assert.equal(c.clientPort, 2181);
    assert.equal(c.clientPortAddress, '0.0.0.0');
    assert.equal(c.clientPortListenBacklog, -1);
    assert.equal(c.maxClientCnxns, 60);
    assert.equal(c.maxCnxns, 0);
    assert.equal(c.minSessionTimeout, 6000);
    assert.equal(c.maxSessionTimeout, 60000);
    assert.deepEqual([...c.fourLetterWords], ['srvr']);
    assert.equal(c.extendedTypesEnabled, false);
    assert.equal(c.juteMaxBuffer, 0xfffff);
    assert.equal(c.snapCount, 100000);
    assert.equal(c.preAllocSizeKb, 65536);
    assert.equal(c.forceSync, true);
    assert.equal(c.autopurgeSnapRetainCount, 3);
    assert.equal(c.autopurgePurgeInterval, 0);
    assert.equal(c.superDigest, undefined);
    assert.equal(c.skipACL, false);
    assert.equal(c.enforceQuota, false);
    assert.equal(c.reconfigEnabled, false);
    assert.equal(c.standaloneEnabled, true);
    assert.equal(c.globalOutstandingLimit, 1000);
    assert.equal(c.adminEnableServer, true, 'on unless admin.enableServer=false, as in ZooKeeper');
    assert.equal(c.adminServerAddress, '0.0.0.0');
    assert.equal(c.adminServerPort, 8080);
    assert.equal(c.adminCommandURL, '/commands');
    assert.equal(c.containerCheckIntervalMs, 60000);
    assert.equal(c.containerMaxPerMinute, 10000);
    assert.equal(c.containerMaxNeverUsedIntervalMs, 0);
    assert.equal(c.standalone, true);
    assert.equal(c.electionAlg, 3);
    assert.equal(c.peerType, 'participant');
    assert.equal(c.servers!.size, 0);
    assert.deepEqual(c.warnings, []);
    assert.equal(c.configPath, undefined);
  });

  it('derives session timeout bounds from tickTime; -1 means the default', () => {
    const c = parse(BASE + 'tickTime=2000\nminSessionTimeout=-1\nmaxSessionTimeout=-1\n');
    assert.equal(c.minSessionTimeout, 4000);
    assert.equal(c.maxSessionTimeout, 40000);
    const d = parse(BASE + 'tickTime=2000\nmaxSessionTimeout=100000\n');
    assert.equal(d.minSessionTimeout, 4000);
    assert.equal(d.maxSessionTimeout, 100000);
  });

  it('the last occurrence of a duplicated key wins, as with java.util.Properties', () => {
    const c = parse(BASE + 'tickTime=1000\ntickTime=2500\n');
    assert.equal(c.tickTime, 2500);
    assert.equal(c.raw.get('tickTime'), '2500');
  });
});

describe('parseZooCfg keys', () => {
  const cases: [string, (c: ReturnType<typeof parse>) => unknown, unknown][] = [
    ['tickTime=1234', (c) => c.tickTime, 1234],
    ['dataLogDir=/var/zklog', (c) => c.dataLogDir, '/var/zklog'],
    ['clientPortAddress=127.0.0.1', (c) => c.clientPortAddress, '127.0.0.1'],
    ['clientPortListenBacklog=128', (c) => c.clientPortListenBacklog, 128],
    ['maxClientCnxns=0', (c) => c.maxClientCnxns, 0],
    ['maxCnxns=500', (c) => c.maxCnxns, 500],
    ['minSessionTimeout=5000', (c) => c.minSessionTimeout, 5000],
    ['maxSessionTimeout=90000', (c) => c.maxSessionTimeout, 90000],
    ['extendedTypesEnabled=true', (c) => c.extendedTypesEnabled, true],
    ['extendedTypesEnabled=TRUE', (c) => c.extendedTypesEnabled, true],
    ['jute.maxbuffer=4194304', (c) => c.juteMaxBuffer, 4194304],
    ['snapCount=5000', (c) => c.snapCount, 5000],
    ['preAllocSize=1024', (c) => c.preAllocSizeKb, 1024],
    ['forceSync=no', (c) => c.forceSync, false],
    ['forceSync=yes', (c) => c.forceSync, true],
    ['autopurge.snapRetainCount=7', (c) => c.autopurgeSnapRetainCount, 7],
    ['autopurge.purgeInterval=12', (c) => c.autopurgePurgeInterval, 12],
    ['skipACL=yes', (c) => c.skipACL, true],
    ['skipACL=no', (c) => c.skipACL, false],
    ['enforceQuota=true', (c) => c.enforceQuota, true],
    ['reconfigEnabled=true', (c) => c.reconfigEnabled, true],
    ['standaloneEnabled=false', (c) => c.standaloneEnabled, false],
    ['globalOutstandingLimit=2000', (c) => c.globalOutstandingLimit, 2000],
    ['admin.enableServer=false', (c) => c.adminEnableServer, false],
    ['admin.enableServer=TRUE', (c) => c.adminEnableServer, true],
    ['admin.serverAddress=127.0.0.1', (c) => c.adminServerAddress, '127.0.0.1'],
    ['admin.serverPort=9090', (c) => c.adminServerPort, 9090],
    ['admin.commandURL=/cmds', (c) => c.adminCommandURL, '/cmds'],
    ['admin.idleTimeout=1000', (c) => c.adminIdleTimeout, 1000],
    ['DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=', (c) => c.superDigest, 'super:D/InIHSb7yEEbrWz8b9l71RjZJU='],
    ['znode.container.checkIntervalMs=500', (c) => c.containerCheckIntervalMs, 500],
    ['znode.container.maxPerMinute=60', (c) => c.containerMaxPerMinute, 60],
    ['znode.container.maxNeverUsedIntervalMs=10000', (c) => c.containerMaxNeverUsedIntervalMs, 10000],
    ['initLimit=10', (c) => c.initLimit, 10],
    ['syncLimit=5', (c) => c.syncLimit, 5],
    ['connectToLearnerMasterLimit=7', (c) => c.connectToLearnerMasterLimit, 7],
    ['electionAlg=3', (c) => c.electionAlg, 3],
    ['peerType=Observer', (c) => c.peerType, 'observer'],
    ['syncEnabled=false', (c) => c.syncEnabled, false],
    ['quorumListenOnAllIPs=true', (c) => c.quorumListenOnAllIPs, true],
    ['localSessionsEnabled=true', (c) => c.localSessionsEnabled, true],
    ['localSessionsUpgradingEnabled=true', (c) => c.localSessionsUpgradingEnabled, true],
    ['secureClientPort=2281', (c) => c.secureClientPort, 2281],
    ['secureClientPortAddress=127.0.0.1', (c) => c.secureClientPortAddress, '127.0.0.1'],
  ];
  for (const [line, get, expected] of cases) {
    it(line, () => assert.deepEqual(get(parse(BASE + line + '\n')), expected));
  }

  it('keeps every key in raw and turns unknown keys into zookeeper.<key> system properties', () => {
    const c = parse(BASE + 'my.custom.setting = hello \nsnapCount=10\n');
    assert.equal(c.raw.get('my.custom.setting'), 'hello');
    assert.equal(c.raw.get('clientPort'), '2181');
    assert.equal(c.systemProperties!.get('zookeeper.my.custom.setting'), 'hello');
    assert.equal(c.systemProperties!.get('zookeeper.snapCount'), '10');
    // Keys ZooKeeper parses itself are not system properties.
    assert.equal(c.systemProperties!.has('zookeeper.clientPort'), false);
  });

  it('warns about a key that differs from a known one only in case', () => {
    const c = parse('dataDir=/d\nclientPort=2181\nticktime=2000\n4LW.commands.whitelist=*\n');
    assert.equal(c.tickTime, 3000);
    assert.deepEqual(c.warnings, [
      "zoo.cfg:3: unknown key 'ticktime' (keys are case-sensitive; did you mean 'tickTime'?)",
      "zoo.cfg:4: unknown key '4LW.commands.whitelist' (keys are case-sensitive; did you mean '4lw.commands.whitelist'?)",
    ]);
    assert.equal(parseError('dataDir=/d\nclientport=2181\n').message, 'zoo.cfg: clientPort is not set (nor a client port in server.<myid>)');
  });

  it('raises snapCount below 2 and autopurge.snapRetainCount below 3, with a warning', () => {
    const c = parse(BASE + 'snapCount=1\nautopurge.snapRetainCount=1\n');
    assert.equal(c.snapCount, 2);
    assert.equal(c.autopurgeSnapRetainCount, 3);
    assert.equal(c.warnings!.length, 2);
    assert.match(c.warnings![0]!, /snapCount 1 is below 2/);
    assert.match(c.warnings![1]!, /^zoo\.cfg:4: autopurge\.snapRetainCount 1 is below 3, using 3$/);
  });

  it('warns that secureClientPort (TLS) is not served', () => {
    assert.deepEqual(parse(BASE + 'secureClientPort=2281\n').warnings, [
      'secureClientPort 2281 is set, but TLS is not supported; only the plaintext clientPort is served',
    ]);
  });

  it('resolves relative dataDir/dataLogDir against the working directory', () => {
    const c = parse('dataDir=./data\ndataLogDir=logs/txn\nclientPort=2181\n', { cwd: '/srv/zk' });
    assert.equal(c.dataDir, '/srv/zk/data');
    assert.equal(c.dataLogDir, '/srv/zk/logs/txn');
    const d = parse('dataDir=data\nclientPort=2181\n', { cwd: '/srv/zk' });
    assert.equal(d.dataLogDir, '/srv/zk/data');
  });

  it('records the config path', () => {
    assert.equal(parse(BASE, { path: 'conf/zoo.cfg' }).configPath, 'conf/zoo.cfg');
  });
});

describe('4lw.commands.whitelist', () => {
  it('absent: only srvr', () => {
    assert.deepEqual([...parse(BASE).fourLetterWords], ['srvr']);
  });

  it('a trimmed comma list, empty items ignored, srvr always added', () => {
    const c = parse(BASE + '4lw.commands.whitelist= ruok , stat,, mntr ,\n');
    assert.deepEqual([...c.fourLetterWords].sort(), ['mntr', 'ruok', 'srvr', 'stat']);
  });

  it('* enables every command', () => {
    const c = parse(BASE + '4lw.commands.whitelist=*\n');
    assert.deepEqual([...c.fourLetterWords].sort(), [...ALL_FOUR_LETTER_WORDS].sort());
  });

  it('* anywhere in the list enables every command', () => {
    const c = parse(BASE + '4lw.commands.whitelist=ruok, *\n');
    assert.equal(c.fourLetterWords.size, ALL_FOUR_LETTER_WORDS.length);
  });

  it('an empty value leaves only srvr', () => {
    assert.deepEqual([...parse(BASE + '4lw.commands.whitelist=\n').fourLetterWords], ['srvr']);
  });

  it('names are case-sensitive as in ZooKeeper; an unknown name is kept and warned about', () => {
    const c = parse(BASE + '4lw.commands.whitelist=RUOK,stat\n');
    assert.ok(c.fourLetterWords.has('RUOK'));
    assert.ok(!c.fourLetterWords.has('ruok'));
    assert.equal(c.warnings!.length, 1);
    assert.match(c.warnings![0]!, /^zoo\.cfg:3: 4lw\.commands\.whitelist: 'RUOK' is not a four-letter word ZooKeeper knows$/);
  });

  it('readonlymode.enabled=true adds isro', () => {
    const c = parse(BASE + '4lw.commands.whitelist=ruok\n', { env: { JVMFLAGS: '-Dreadonlymode.enabled=true' } });
    assert.deepEqual([...c.fourLetterWords].sort(), ['isro', 'ruok', 'srvr']);
  });

  it('can come from JVMFLAGS -Dzookeeper.4lw.commands.whitelist', () => {
    const c = parse(BASE, { env: { JVMFLAGS: '-Xmx1g -Dzookeeper.4lw.commands.whitelist=ruok,conf' } });
    assert.deepEqual([...c.fourLetterWords].sort(), ['conf', 'ruok', 'srvr']);
  });
});

describe('environment: JVMFLAGS, SERVER_JVMFLAGS, ZK_JUTE_MAXBUFFER', () => {
  it('parseJvmFlags takes -D flags, SERVER_JVMFLAGS first so JVMFLAGS wins', () => {
    const p = parseJvmFlags({ SERVER_JVMFLAGS: '-Da=1 -Db=2 -Xmx1g', JVMFLAGS: ' -Db=3  -Dflag ' });
    assert.deepEqual(
      [...p].map(([k, v]) => [k, v.value]),
      [['a', '1'], ['b', '3'], ['flag', '']],
    );
    assert.equal(p.get('b')!.where, 'JVMFLAGS -Db');
  });

  it('jute.maxbuffer: zoo.cfg over -Djute.maxbuffer over ZK_JUTE_MAXBUFFER', () => {
    assert.equal(parse(BASE, { env: { ZK_JUTE_MAXBUFFER: '2000000' } }).juteMaxBuffer, 2000000);
    assert.equal(parse(BASE, { env: { ZK_JUTE_MAXBUFFER: '2000000', JVMFLAGS: '-Djute.maxbuffer=3000000' } }).juteMaxBuffer, 3000000);
    assert.equal(parse(BASE, { env: { SERVER_JVMFLAGS: '-Djute.maxbuffer=3000000' } }).juteMaxBuffer, 3000000);
    assert.equal(
      parse(BASE + 'jute.maxbuffer=4000000\n', { env: { JVMFLAGS: '-Djute.maxbuffer=3000000' } }).juteMaxBuffer,
      4000000,
    );
  });

  it('superDigest from -Dzookeeper.DigestAuthenticationProvider.superDigest; zoo.cfg overrides it', () => {
    const flags = { JVMFLAGS: '-Dzookeeper.DigestAuthenticationProvider.superDigest=super:abc=' };
    assert.equal(parse(BASE, { env: flags }).superDigest, 'super:abc=');
    assert.equal(parse(BASE + 'DigestAuthenticationProvider.superDigest=super:xyz=\n', { env: flags }).superDigest, 'super:xyz=');
  });

  it('znode.container.* and zookeeper.* settings from JVMFLAGS', () => {
    const c = parse(BASE, {
      env: {
        JVMFLAGS:
          '-Dznode.container.checkIntervalMs=100 -Dznode.container.maxPerMinute=5 ' +
          '-Dznode.container.maxNeverUsedIntervalMs=2000 -Dzookeeper.skipACL=yes -Dzookeeper.snapCount=50 ' +
          '-Dzookeeper.extendedTypesEnabled=true -Dzookeeper.forceSync=no',
      },
    });
    assert.equal(c.containerCheckIntervalMs, 100);
    assert.equal(c.containerMaxPerMinute, 5);
    assert.equal(c.containerMaxNeverUsedIntervalMs, 2000);
    assert.equal(c.skipACL, true);
    assert.equal(c.snapCount, 50);
    assert.equal(c.extendedTypesEnabled, true);
    assert.equal(c.forceSync, false);
    assert.equal(c.systemProperties!.get('znode.container.maxPerMinute'), '5');
  });

  it('a bad value in JVMFLAGS names the flag', () => {
    const e = parseError(BASE, { env: { JVMFLAGS: '-Dzookeeper.snapCount=lots' } });
    assert.equal(e.message, "JVMFLAGS -Dzookeeper.snapCount: zookeeper.snapCount: 'lots' is not a number");
  });

  it('uses process.env when no env is given', () => {
    const saved = process.env.ZK_JUTE_MAXBUFFER;
    process.env.ZK_JUTE_MAXBUFFER = '1234567';
    try {
      assert.equal(parseZooCfg(BASE, { ignoreMyId: true }).juteMaxBuffer, 1234567);
    } finally {
      if (saved === undefined) delete process.env.ZK_JUTE_MAXBUFFER;
      else process.env.ZK_JUTE_MAXBUFFER = saved;
    }
  });
});

describe('configuration errors', () => {
  const cases: [string, string, RegExp | string][] = [
    ['non-numeric clientPort', 'tickTime=2000\ndataDir=/d\nclientPort=abc\n', "zoo.cfg:3: clientPort: 'abc' is not a number"],
    [
      'inline # comment',
      'dataDir=/d\nclientPort=2181 # the port\n',
      "zoo.cfg:2: clientPort: '2181 # the port' is not a number ('#' starts a comment only at the beginning of a line)",
    ],
    ['port out of range', 'dataDir=/d\nclientPort=70000\n', "zoo.cfg:2: clientPort: '70000' is not a port number (1-65535)"],
    ['int overflow', BASE + 'tickTime=99999999999\n', "zoo.cfg:3: tickTime: '99999999999' is out of range for a 32-bit integer"],
    ['tickTime 0', BASE + 'tickTime=0\n', "zoo.cfg:3: tickTime: '0' must be a positive number of milliseconds"],
    ['dataDir missing', 'clientPort=2181\n', 'zoo.cfg: dataDir is not set'],
    ['empty dataDir', 'dataDir=\nclientPort=2181\n', "zoo.cfg:1: dataDir: '' must not be empty"],
    ['clientPort missing', 'dataDir=/d\n', 'zoo.cfg: clientPort is not set (nor a client port in server.<myid>)'],
    ['clientPort 0 means unset', 'dataDir=/d\nclientPort=0\n', 'zoo.cfg: clientPort is not set (nor a client port in server.<myid>)'],
    [
      'clientPortAddress without clientPort',
      'dataDir=/d\nclientPortAddress=127.0.0.1\n',
      'zoo.cfg:2: clientPortAddress is set but clientPort is not set',
    ],
    [
      'min > max session timeout',
      BASE + 'tickTime=2000\nminSessionTimeout=50000\n',
      'zoo.cfg:4: minSessionTimeout (50000) must not be larger than maxSessionTimeout (40000)',
    ],
    [
      'max < default min',
      BASE + 'maxSessionTimeout=1000\n',
      'zoo.cfg:3: minSessionTimeout (6000) must not be larger than maxSessionTimeout (1000)',
    ],
    ['true/false key', BASE + 'standaloneEnabled=yes\n', "zoo.cfg:3: standaloneEnabled: 'yes' is not true or false"],
    ['system-property boolean', BASE + 'extendedTypesEnabled=on\n', "zoo.cfg:3: extendedTypesEnabled: 'on' is not true or false"],
    [
      'skipACL=true is refused (ZooKeeper only honours yes)',
      BASE + 'skipACL=true\n',
      "zoo.cfg:3: skipACL: 'true' must be yes or no (ZooKeeper compares this key with the literal strings)",
    ],
    ['forceSync=false is refused', BASE + 'forceSync=false\n', /^zoo\.cfg:3: forceSync: 'false' must be yes or no/],
    ['electionAlg', BASE + 'electionAlg=1\n', "zoo.cfg:3: electionAlg: '1' is not supported: only electionAlg=3 is"],
    ['sslQuorum', BASE + 'sslQuorum=true\n', "zoo.cfg:3: sslQuorum: 'true' is not supported: members cannot use TLS between them (sslQuorum=false)"],
    ['quorum SASL', BASE + 'quorum.auth.enableSasl=true\n', "zoo.cfg:3: quorum.auth.enableSasl: 'true' is not supported: members cannot authenticate each other with SASL"],
    ['peerType', BASE + 'peerType=leader\n', "zoo.cfg:3: peerType: 'leader' is not a peer type (participant or observer)"],
    ['jute.maxbuffer', BASE + 'jute.maxbuffer=0\n', "zoo.cfg:3: jute.maxbuffer: '0' must be a positive number of bytes"],
    ['superDigest form', BASE + 'DigestAuthenticationProvider.superDigest=nocolon\n', /^zoo\.cfg:3: DigestAuthenticationProvider\.superDigest: 'nocolon' is not of the form/],
    ['admin port', BASE + 'admin.serverPort=http\n', "zoo.cfg:3: admin.serverPort: 'http' is not a number"],
    ['preAllocSize', BASE + 'preAllocSize=-1\n', "zoo.cfg:3: preAllocSize: '-1' must be a positive number of kilobytes"],
    ['key without name', BASE + '=value\n', "zoo.cfg:3: : 'value' has no key"],
    ['line number after continuation', 'dataDir=/d\nx=a\\\n  b\nclientPort=x\n', "zoo.cfg:4: clientPort: 'x' is not a number"],
  ];
  for (const [name, text, expected] of cases) {
    it(name, () => {
      const e = parseError(text);
      if (typeof expected === 'string') assert.equal(e.message, expected);
      else assert.match(e.message, expected);
    });
  }

  it('carries file, line and key on the error', () => {
    const e = parseError('dataDir=/d\n\nclientPort=abc\n', { path: '/etc/zk/zoo.cfg' });
    assert.equal(e.message, "/etc/zk/zoo.cfg:3: clientPort: 'abc' is not a number");
    assert.equal(e.file, '/etc/zk/zoo.cfg');
    assert.equal(e.line, 3);
    assert.equal(e.key, 'clientPort');
  });
});

describe('quorum keys (server.N, group, weight) and mode', () => {
  it('a single server.N with standaloneEnabled=true is ignored: standalone, with ZooKeeper\'s warning', () => {
    const c = parse(BASE + 'server.1=localhost:2888:3888\n');
    assert.equal(c.standalone, true);
    assert.equal(c.servers!.size, 1);
    assert.deepEqual(c.warnings, ['Invalid configuration, only one server specified (ignoring)']);
  });

  it('a single server.N with standaloneEnabled=false is a quorum of one', () => {
    const c = parse(BASE + 'standaloneEnabled=false\ninitLimit=5\nsyncLimit=2\nserver.1=localhost:2888:3888\n');
    assert.equal(c.standalone, false);
  });

  it('three servers: a quorum; every part of the line is parsed', () => {
    const c = parse(
      BASE +
        'initLimit=5\nsyncLimit=2\n' +
        'server.1=zk1:2888:3888\nserver.2=zk2:2888:3888:participant;2182\n' +
        'server.3=[::1]:2889:3889:observer;127.0.0.1:2183\nserver.4=zk4:2888:3888\n',
    );
    assert.equal(c.standalone, false);
    assert.deepEqual(c.servers!.get(1), { id: 1, addresses: [{ host: 'zk1', quorumPort: 2888, electionPort: 3888 }], type: 'participant' });
    assert.deepEqual(c.servers!.get(2), {
      id: 2,
      addresses: [{ host: 'zk2', quorumPort: 2888, electionPort: 3888 }],
      type: 'participant',
      clientHost: '0.0.0.0',
      clientPort: 2182,
    });
    assert.deepEqual(c.servers!.get(3), {
      id: 3,
      addresses: [{ host: '::1', quorumPort: 2889, electionPort: 3889 }],
      type: 'observer',
      clientHost: '127.0.0.1',
      clientPort: 2183,
    });
    assert.deepEqual(c.warnings, []);
  });

  it('warns like ZooKeeper about 2 voters and even ensembles', () => {
    const two = parse(BASE + 'initLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\n');
    assert.deepEqual(two.warnings, ['No server failure will be tolerated. You need at least 3 servers.']);
    const four = parse(BASE + 'initLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nserver.4=d:1:2\n');
    assert.deepEqual(four.warnings, ['Non-optimal configuration, consider an odd number of servers.']);
  });

  it('a quorum needs initLimit and syncLimit', () => {
    assert.equal(parseError(BASE + 'server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n').message, 'zoo.cfg: initLimit is not set');
    assert.equal(
      parseError(BASE + 'initLimit=5\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n').message,
      'zoo.cfg: syncLimit is not set',
    );
  });

  it('rejects malformed server lines with the line number', () => {
    assert.match(parseError(BASE + 'server.1=localhost:2888\n').message, /^zoo\.cfg:3: server\.1: 'localhost:2888' does not have the form server_config/);
    assert.equal(
      parseError(BASE + 'server.x=localhost:2888:3888\n').message,
      "zoo.cfg:3: server.x: 'x' after 'server.' is not a number",
    );
    assert.equal(
      parseError(BASE + 'server.1=localhost:2888:2888\n').message,
      "zoo.cfg:3: server.1: 'localhost:2888:2888' uses the same port for quorum and election; they must differ",
    );
    assert.equal(
      parseError(BASE + 'server.1=localhost:2888:3888:foo\n').message,
      "zoo.cfg:3: server.1: 'localhost:2888:3888:foo' has an unrecognised peer type 'foo'",
    );
    assert.equal(parseError(BASE + 'server.1=h:2888:abc\n').message, "zoo.cfg:3: server.1: 'abc' is not a number");
    assert.match(parseError(BASE + 'server.1=a:1:2|b:1:2\n').message, /multiAddress\.enabled is not true/);
  });

  it('multiple addresses with multiAddress.enabled=true', () => {
    const c = parse(BASE + 'multiAddress.enabled=true\nserver.1=a:1:2|b:3:4\n');
    assert.equal(c.servers!.get(1)!.addresses.length, 2);
  });

  it('observers without participants are invalid', () => {
    assert.match(parseError(BASE + 'server.1=a:1:2:observer\n').message, /observers without participants/);
  });

  it('groups and weights', () => {
    const c = parse(
      BASE +
        'initLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n' +
        'group.1=1:2\ngroup.2=3\nweight.1=1\nweight.2=1\nweight.3=0\n',
    );
    assert.deepEqual([...c.groups!], [[1, [1, 2]], [2, [3]]]);
    assert.deepEqual([...c.weights!], [[1, 1], [2, 1], [3, 0]]);
    assert.match(
      parseError(BASE + 'server.1=a:1:2\nserver.2=b:1:2\ngroup.1=1:2\ngroup.2=2\n').message,
      /server 2 is in both group\.1 and group\.2/,
    );
    assert.match(parseError(BASE + 'server.1=a:1:2\ngroup.1=1:x\n').message, /^zoo\.cfg:4: group\.1: '1:x' is not a list of server ids/);
  });

  it('with dynamicConfigFile, servers come from that file and are forbidden in zoo.cfg', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zoocfg-dyn-'));
    try {
      const dyn = path.join(dir, 'zoo.cfg.dynamic.100000000');
      fs.writeFileSync(dyn, 'server.1=a:1:2;2181\nserver.2=b:1:2;2181\nserver.3=c:1:2;2181\nversion=100000000\n');
      const c = parse(`${BASE}initLimit=5\nsyncLimit=2\ndynamicConfigFile=${dyn}\n`);
      assert.equal(c.dynamicConfigFile, dyn);
      assert.equal(c.servers!.size, 3);
      assert.equal(c.standalone, false);
      assert.equal(
        parseError(`${BASE}dynamicConfigFile=${dyn}\nserver.1=a:1:2\n`).message,
        'zoo.cfg:4: server.1 must be in the separate dynamic config file',
      );
      fs.writeFileSync(dyn, 'server.1=a:1:2\ntickTime=5\n');
      assert.match(parseError(`${BASE}dynamicConfigFile=${dyn}\n`).message, /zoo\.cfg\.dynamic\.100000000:2: tickTime: '5' is not a dynamic config parameter/);
      assert.match(parseError(`${BASE}dynamicConfigFile=${path.join(dir, 'missing')}\n`).message, /^zoo\.cfg: dynamicConfigFile .*missing: ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('myid', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zoocfg-myid-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('readMyId: absent → undefined; first line parsed as a number', () => {
    const d = fs.mkdtempSync(path.join(dir, 'a-'));
    assert.equal(readMyId(d), undefined);
    fs.writeFileSync(path.join(d, 'myid'), '3\nignored\n');
    assert.equal(readMyId(d), 3);
    fs.writeFileSync(path.join(d, 'myid'), 'abc\n');
    assert.throws(() => readMyId(d), (e: unknown) => e instanceof ConfigError && /myid: serverid 'abc' is not a number$/.test(e.message));
    fs.writeFileSync(path.join(d, 'myid'), ' 1\n');
    assert.throws(() => readMyId(d), /serverid ' 1' is not a number/);
    // A dataDir that is not a directory has no myid; the storage layer reports the real problem.
    assert.equal(readMyId(path.join(d, 'myid', 'sub')), undefined);
    fs.rmSync(path.join(d, 'myid'));
    fs.mkdirSync(path.join(d, 'myid'));
    assert.equal(readMyId(d), undefined, 'a directory named myid is not a myid file');
  });

  it('standalone reads myid when present; a quorum needs it', () => {
    const d = fs.mkdtempSync(path.join(dir, 'b-'));
    const quorum = `dataDir=${d}\nclientPort=2181\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n`;
    assert.equal(parseZooCfg(`dataDir=${d}\nclientPort=2181\n`, { env: {} }).serverId, undefined);
    assert.throws(() => parseZooCfg(quorum, { env: {} }), /myid: myid file is missing$/);
    fs.writeFileSync(path.join(d, 'myid'), '2');
    const c = parseZooCfg(quorum, { env: {} });
    assert.equal(c.serverId, 2);
    assert.equal(c.standalone, false);
  });

  it('takes the client port and address from server.<myid> when clientPort is absent', () => {
    const d = fs.mkdtempSync(path.join(dir, 'c-'));
    fs.writeFileSync(path.join(d, 'myid'), '2\n');
    const text = `dataDir=${d}\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2;127.0.0.1:2181\nserver.2=b:1:2;127.0.0.1:2182\nserver.3=c:1:2:observer;2183\n`;
    const c = parseZooCfg(text, { env: {} });
    assert.equal(c.clientPort, 2182);
    assert.equal(c.clientPortAddress, '127.0.0.1');
    assert.throws(() => parseZooCfg(`${text}clientPort=9999\n`, { env: {} }), /clientPort 9999 differs from the client port 2182 in server\.2/);
    fs.writeFileSync(path.join(d, 'myid'), '3\n');
    const obs = parseZooCfg(text, { env: {} });
    assert.equal(obs.peerType, 'observer');
    assert.equal(obs.clientPort, 2183);
  });

  it('extendedTypesEnabled limits the server id to 254', () => {
    const d = fs.mkdtempSync(path.join(dir, 'd-'));
    fs.writeFileSync(path.join(d, 'myid'), '300\n');
    assert.throws(
      () => parseZooCfg(`dataDir=${d}\nclientPort=2181\nextendedTypesEnabled=true\n`, { env: {} }),
      /extendedTypesEnabled is true but server id 300 is larger than 254/,
    );
    assert.equal(parseZooCfg(`dataDir=${d}\nclientPort=2181\n`, { env: {} }).serverId, 300);
  });
});

describe('loadZooCfg', () => {
  it('reads a file and names it in errors; a missing file is a ConfigError', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zoocfg-load-'));
    try {
      const file = path.join(dir, 'zoo.cfg');
      fs.writeFileSync(file, `tickTime=2000\ndataDir=${dir}/data\nclientPort=2181\n`);
      const c = loadZooCfg(file, { env: {} });
      assert.equal(c.configPath, file);
      assert.equal(c.tickTime, 2000);
      fs.writeFileSync(file, `tickTime=fast\ndataDir=${dir}/data\nclientPort=2181\n`);
      assert.throws(() => loadZooCfg(file, { env: {} }), { name: 'ConfigError', message: `${file}:1: tickTime: 'fast' is not a number` });
      assert.throws(() => loadZooCfg(path.join(dir, 'nope.cfg')), { name: 'ConfigError', message: `${path.join(dir, 'nope.cfg')}: file does not exist` });
      assert.throws(() => loadZooCfg(dir), { name: 'ConfigError', message: `${dir}: is a directory` });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the shipped conf/zoo.cfg parses to a standalone server on 127.0.0.1:2181 with data in ./data', () => {
    const file = new URL('../../../conf/zoo.cfg', import.meta.url);
    const c = parseZooCfg(fs.readFileSync(file, 'utf8'), { env: {}, cwd: '/somewhere', ignoreMyId: true });
    assert.equal(c.standalone, true);
    assert.equal(c.clientPort, 2181);
    assert.equal(c.clientPortAddress, '127.0.0.1');
    assert.equal(c.dataDir, '/somewhere/data');
    assert.equal(c.adminEnableServer, false);
    assert.ok(c.fourLetterWords.has('ruok') && c.fourLetterWords.has('mntr'));
  });
});
