// Error classes per ZooKeeper code, produced by real replies of our server over TCP, and the
// retryable classification after a connection is cut through a proxy.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from '../support/OurServer.js';
import { TcpProxy } from './TcpProxy.js';
import { ZooKeeper } from '../../src/client/ZooKeeper.js';
import {
  BadVersionError,
  ConnectionLossError,
  NoAuthError,
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
  SessionExpiredError,
  ZooKeeperError,
  errorClassFor,
  isRetryable,
  isZooKeeperError,
} from '../../src/client/errors.js';
import { Err } from '../../src/protocol/constants.js';

let server: TestServer;
before(async () => {
  server = await startServer({ tickTime: 100 });
});
after(async () => {
  await server.stop();
});

test('each server error arrives as its own class under ZooKeeperError, with code, name and path', async () => {
  const zk = await ZooKeeper.connect(server.connectString, { sessionTimeout: 4000 });
  try {
    await zk.create('/errs', 'x');
    await zk.create('/errs/child', null);
    const cases: Array<[() => Promise<unknown>, new (...a: any[]) => ZooKeeperError, number, string]> = [
      [() => zk.create('/errs', null), NodeExistsError, Err.NodeExists, '/errs'],
      [() => zk.delete('/nope'), NoNodeError, Err.NoNode, '/nope'],
      [() => zk.setData('/errs', 'y', 42), BadVersionError, Err.BadVersion, '/errs'],
      [() => zk.delete('/errs'), NotEmptyError, Err.NotEmpty, '/errs'],
    ];
    for (const [op, Cls, code, path] of cases) {
      await assert.rejects(op(), (e: unknown) => {
        assert.ok(e instanceof Cls, `${String(e)} should be ${Cls.name}`);
        assert.ok(e instanceof ZooKeeperError);
        assert.ok(isZooKeeperError(e, code));
        assert.equal((e as ZooKeeperError).code, code);
        assert.equal((e as ZooKeeperError).path, path);
        assert.equal((e as ZooKeeperError).isRetryable, false);
        return true;
      });
    }
    // NoAuth: a node readable only by a digest identity this session does not have.
    await zk.create('/errs/secret', 's', { acl: [{ perms: 31, id: { scheme: 'digest', id: 'u:abcdefghijklmnopqrstuvwxyz0=' } }] });
    await assert.rejects(zk.getData('/errs/secret'), (e) => e instanceof NoAuthError && e.code === Err.NoAuth);
  } finally {
    await zk.close();
  }
});

test('ZooKeeperError built from a code is that code\'s class; unknown codes stay the base class', () => {
  const e = new ZooKeeperError(Err.SessionExpired, '/p');
  assert.ok(e instanceof SessionExpiredError);
  assert.equal(e.name, 'SessionExpired');
  assert.equal(e.message, 'KeeperErrorCode = Session expired for /p');
  assert.equal(errorClassFor(Err.NoNode), NoNodeError);
  const odd = new ZooKeeperError(-999);
  assert.equal(odd.constructor, ZooKeeperError);
  assert.equal(odd.code, -999);
  // Retryable as Curator's RetryLoop.shouldRetry, minus SessionExpired (our handle stays expired).
  for (const c of [Err.ConnectionLoss, Err.OperationTimeout, Err.RequestTimeout, Err.SessionMoved, Err.NewConfigNoQuorum]) {
    assert.equal(new ZooKeeperError(c).isRetryable, true, String(c));
  }
  for (const c of [Err.NoNode, Err.SessionExpired, Err.NodeExists, Err.AuthFailed, Err.BadVersion]) {
    assert.equal(new ZooKeeperError(c).isRetryable, false, String(c));
  }
  assert.equal(isRetryable(new Error('x')), false);
});

test('a request in flight when the connection is cut fails with a retryable ConnectionLossError', async () => {
  const proxy = await new TcpProxy(server.port).start();
  const zk = await ZooKeeper.connect(proxy.connectString, { sessionTimeout: 4000 });
  try {
    proxy.stall();
    const inflight = zk.getData('/');
    await new Promise((r) => setTimeout(r, 50));
    proxy.sever();
    await assert.rejects(inflight, (e) => e instanceof ConnectionLossError && e.isRetryable && isRetryable(e));
  } finally {
    await zk.close();
    await proxy.stop();
  }
});
