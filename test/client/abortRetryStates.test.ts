// AbortSignal on client waits, retry policies on idempotent operations, and Curator-style
// connection states (SUSPENDED / RECONNECTED / LOST), against our server over real sockets with a
// proxy in between to cut, stall or refuse connections.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from '../support/OurServer.js';
import { TcpProxy } from './TcpProxy.js';
import { ZooKeeper, type ConnectionStateName } from '../../src/client/ZooKeeper.js';
import { ConnectionLossError, RequestTimeoutError, SessionExpiredError } from '../../src/client/errors.js';
import { ExponentialBackoffRetry, RetryNTimes, RetryUntilElapsed, type RetryPolicy } from '../../src/client/RetryPolicy.js';

let server: TestServer;
before(async () => {
  server = await startServer({ tickTime: 100 });
});
after(async () => {
  await server.stop();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isAbort = (e: unknown) => e instanceof Error && e.name === 'AbortError';

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await pause(10);
  }
}

test('an already aborted signal rejects at once with its reason and sends nothing', async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
  try {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(zk.create('/abort-early', null, { signal: ac.signal }), isAbort);
    await assert.rejects(zk.getData('/', null, { signal: ac.signal }), (e) => e === ac.signal.reason);
    assert.equal(await zk.exists('/abort-early'), null);
  } finally {
    await zk.close();
  }
});

test('a create aborted while queued during a disconnect is never sent after the reconnect', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const zk = await ZooKeeper.connect(proxy.connectString, { sessionTimeout: 4000 });
  try {
    proxy.block();
    proxy.sever();
    await until(() => zk.state !== 'connected');
    const ac = new AbortController();
    const queued = zk.create('/abort-queued', null, { signal: ac.signal });
    const kept = zk.create('/abort-kept', null);
    ac.abort();
    await assert.rejects(queued, isAbort);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    proxy.block(false);
    await kept; // sent after the reconnect, ordered after the aborted one
    assert.equal(await zk.exists('/abort-queued'), null);
  } finally {
    await zk.close();
    await proxy.stop();
  }
});

test('aborting a request in flight rejects with signal.reason; the late reply does not disturb later requests', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const zk = await ZooKeeper.connect(proxy.connectString, { sessionTimeout: 4000 });
  try {
    await zk.create('/inflight', 'v1');
    const ac = new AbortController();
    const reason = new Error('caller gave up');
    const p = zk.getData('/inflight', null, { signal: ac.signal });
    await new Promise((r) => setImmediate(r)); // written to the socket by now
    ac.abort(reason);
    await assert.rejects(p, (e) => e === reason);
    // The reply to the abandoned request still arrives and must be consumed in xid order.
    const { data } = await zk.getData('/inflight');
    assert.equal(data?.toString(), 'v1');
  } finally {
    await zk.close();
    await proxy.stop();
  }
});

test('one long-lived signal over many calls leaves no listeners behind', async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
  try {
    const ac = new AbortController();
    await Promise.all(Array.from({ length: 200 }, () => zk.exists('/', null, { signal: ac.signal })));
    await assert.rejects(zk.getData('/does-not-exist', null, { signal: ac.signal }), (e) => (e as Error).name === 'NoNode');
    await zk.waitConnected({ signal: ac.signal });
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  } finally {
    await zk.close();
  }
});

test('connect and waitConnected reject with AbortError when aborted while no server answers', async () => {
  const proxy = await new TcpProxy(server.port).start();
  proxy.block();
  try {
    const t0 = Date.now();
    await assert.rejects(ZooKeeper.connect(proxy.connectString, { sessionTimeout: 4000, signal: AbortSignal.timeout(150) }), (e) => (e as Error).name === 'TimeoutError');
    assert.ok(Date.now() - t0 < 2000, 'abort must not wait for the connect timeout');
    const zk = new ZooKeeper(proxy.connectString, { sessionTimeout: 4000 });
    const ac = new AbortController();
    const w = zk.waitConnected({ signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(w, isAbort);
    assert.equal(zk.listenerCount('state'), 0);
    await zk.close();
  } finally {
    await proxy.stop();
  }
});

/** Counts how often a policy is consulted. */
function counting(policy: RetryPolicy): RetryPolicy & { calls: number } {
  const c = {
    calls: 0,
    allowRetry(n: number, elapsed: number) {
      c.calls++;
      return policy.allowRetry(n, elapsed);
    },
  };
  return c;
}

test('with a retry policy a read cut by connection loss is retried and succeeds; a create is not retried', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const policy = counting(new RetryUntilElapsed(5000, 20));
  const zk = await ZooKeeper.connect(proxy.connectString, { sessionTimeout: 4000, retryPolicy: policy });
  try {
    await zk.create('/retry-me', 'ok');
    proxy.stall();
    const read = zk.getData('/retry-me');
    const write = zk.create('/retry-create', null).then(
      () => null,
      (e: unknown) => e,
    );
    await pause(50);
    proxy.stall(false);
    proxy.sever();
    assert.equal((await read).data?.toString(), 'ok');
    assert.equal(policy.calls, 1);
    assert.ok((await write) instanceof ConnectionLossError);
  } finally {
    await zk.close();
    await proxy.stop();
  }

  // Same cut without a policy: the read fails with the retryable error for the caller to handle.
  const proxy2 = await new TcpProxy(server.port).start();
  const zk2 = await ZooKeeper.connect(proxy2.connectString, { sessionTimeout: 4000 });
  try {
    proxy2.stall();
    const read = zk2.getData('/retry-me');
    await pause(50);
    proxy2.stall(false);
    proxy2.sever();
    await assert.rejects(read, (e) => e instanceof ConnectionLossError && e.isRetryable);
  } finally {
    await zk2.close();
    await proxy2.stop();
  }
});

test('bounded retries give up with the last error; aborting stops a retry loop', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const policy = counting(new RetryNTimes(2, 10));
  const zk = await ZooKeeper.connect(proxy.connectString, { sessionTimeout: 4000, requestTimeout: 150, retryPolicy: policy });
  try {
    proxy.stall();
    const t0 = Date.now();
    await assert.rejects(zk.getData('/'), (e) => e instanceof RequestTimeoutError);
    // Three attempts of ~150 ms each (the sweeper checks every 15 ms).
    assert.equal(policy.calls, 3);
    assert.ok(Date.now() - t0 >= 3 * 150 - 20, `elapsed ${Date.now() - t0}`);
    const ac = new AbortController();
    const forever = zk.exists('/', null, { signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    await assert.rejects(forever, isAbort);
  } finally {
    proxy.stall(false);
    await zk.close();
    await proxy.stop();
  }
});

test('ExponentialBackoffRetry sleeps base * random(1..2^(n+1)), capped, for at most maxRetries', () => {
  const p = new ExponentialBackoffRetry(10, 5, 100);
  for (let n = 0; n < 5; n++) {
    for (let i = 0; i < 200; i++) {
      const s = p.allowRetry(n) as number;
      assert.ok(s >= 10 && s <= Math.min(100, 10 * 2 ** (n + 1)) && s % 10 === 0, `retry ${n}: ${s}`);
    }
  }
  assert.equal(p.allowRetry(5), false);
  assert.equal(new ExponentialBackoffRetry(1, 1000).maxRetries, 29);
  assert.throws(() => new ExponentialBackoffRetry(-1, 3), RangeError);
  const u = new RetryUntilElapsed(100, 30);
  assert.equal(u.allowRetry(0, 0), 30);
  assert.equal(u.allowRetry(3, 90), 10);
  assert.equal(u.allowRetry(4, 100), false);
});

test('connection states: CONNECTED, SUSPENDED on a cut, RECONNECTED with the same session', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const zk = new ZooKeeper(proxy.connectString, { sessionTimeout: 2000 });
  const seen: ConnectionStateName[] = [];
  zk.on('connectionState', (s) => seen.push(s));
  try {
    assert.equal(zk.connectionState, null);
    await zk.waitConnected(5000);
    const sid = zk.getSessionId();
    proxy.sever();
    await until(() => seen.length >= 3);
    assert.deepEqual(seen, ['CONNECTED', 'SUSPENDED', 'RECONNECTED']);
    assert.equal(zk.connectionState, 'RECONNECTED');
    assert.equal(zk.getSessionId(), sid);
  } finally {
    await zk.close();
    await proxy.stop();
  }
});

test('LOST is reported one session timeout after SUSPENDED, without hearing from a server', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const zk = await ZooKeeper.connect(proxy.connectString, { sessionTimeout: 1000 });
  const at = new Map<ConnectionStateName, number>();
  zk.on('connectionState', (s) => at.set(s, Date.now()));
  try {
    const timeout = zk.getSessionTimeout();
    proxy.block();
    proxy.sever();
    await until(() => zk.state !== 'connected');
    const pending = zk.getData('/').then(
      () => null,
      (e: unknown) => e,
    );
    await until(() => at.has('LOST'), timeout + 6000);
    const suspendedFor = at.get('LOST')! - at.get('SUSPENDED')!;
    // Not before the timeout; after it by no more than a loaded machine's timer lateness (the server
    // is cut off, so nothing else could have reported the loss).
    assert.ok(suspendedFor >= timeout - 5 && suspendedFor < timeout + 2500, `LOST after ${suspendedFor} ms, timeout ${timeout}`);
    assert.equal(zk.state, 'expired');
    assert.equal(zk.connectionState, 'LOST');
    assert.ok((await pending) instanceof SessionExpiredError);
  } finally {
    await zk.close();
    await proxy.stop();
  }
});

test('with lostAfterSessionTimeout off, LOST waits for the server to say the session expired', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const zk = await ZooKeeper.connect(proxy.connectString, { sessionTimeout: 1000, lostAfterSessionTimeout: false });
  const seen: ConnectionStateName[] = [];
  zk.on('connectionState', (s) => seen.push(s));
  try {
    proxy.block();
    proxy.sever();
    await pause(zk.getSessionTimeout() + 500);
    assert.deepEqual(seen, ['SUSPENDED']);
    assert.equal(zk.state, 'connecting');
    proxy.block(false);
    await until(() => seen.includes('LOST'));
    assert.equal(zk.state, 'expired');
  } finally {
    await zk.close();
    await proxy.stop();
  }
});

test('states() iterator stops with signal.reason when aborted and removes its listener', async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
  try {
    const ac = new AbortController();
    const before = zk.listenerCount('state');
    const loop = (async () => {
      for await (const _ of zk.states({ signal: ac.signal }));
    })();
    await pause(20);
    assert.equal(zk.listenerCount('state'), before + 1);
    ac.abort();
    await assert.rejects(loop, isAbort);
    assert.equal(zk.listenerCount('state'), before);
  } finally {
    await zk.close();
  }
});
