// QuorumCnxManager's connection rules, on hand-fed events and on members wired in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElectionConnections, type ConnectionOutput, type ConnId } from '../../../src/quorum/election/ElectionConnections.js';

type Out = ConnectionOutput<string>;
const of = <T extends Out['type']>(outs: Out[], type: T) => outs.filter((o): o is Extract<Out, { type: T }> => o.type === type);

test('the smaller sid announces itself and drops its own dial; the larger keeps its', () => {
  const two = new ElectionConnections<string>(2n);
  two.send(3n, 'v2');
  const out = two.dialed(3n, 10);
  assert.deepEqual(out.filter((o) => o.type !== 'log'), [
    { type: 'writeInitial', conn: 10 },
    { type: 'close', conn: 10 },
  ]);
  const three = new ElectionConnections<string>(3n);
  three.send(2n, 'v3');
  const kept = three.dialed(2n, 11);
  assert.deepEqual(kept, [
    { type: 'writeInitial', conn: 11 },
    { type: 'write', conn: 11, sid: 2n, message: 'v3' },
  ]);
});

test('accepting: a smaller sid is closed and dialed back; our own sid refused; a larger replaces the old', () => {
  const c = new ElectionConnections<string>(2n);
  const back = c.initialReceived(5, 1n);
  assert.deepEqual(back, [
    { type: 'close', conn: 5 },
    { type: 'dial', sid: 1n },
  ]);
  assert.deepEqual(of(c.initialReceived(6, 2n), 'close'), [{ type: 'close', conn: 6 }]);
  c.initialReceived(7, 3n);
  assert.equal(c.isConnected(3n), true);
  assert.deepEqual(of(c.initialReceived(8, 3n), 'close'), [{ type: 'close', conn: 7 }]);
  assert.deepEqual(c.received(8, 'hello'), [{ type: 'deliver', from: 3n, message: 'hello' }]);
  assert.equal(of(c.received(7, 'stale'), 'deliver').length, 0, 'the replaced connection is forgotten');
});

test('one send slot per peer: a newer message replaces one not yet written', () => {
  const c = new ElectionConnections<string>(3n);
  c.initialReceived(1, 4n);
  assert.deepEqual(of(c.send(4n, 'a'), 'write').map((w) => w.message), ['a']);
  assert.deepEqual(c.send(4n, 'b'), []);
  assert.deepEqual(c.send(4n, 'c'), []);
  assert.equal(c.haveDelivered(), false, 'the only queue holds c');
  assert.deepEqual(of(c.writeDone(1), 'write').map((w) => w.message), ['c']);
  assert.equal(c.haveDelivered(), true);
  assert.deepEqual(c.writeDone(1), []);
});

test('a fresh connection re-sends the last message when nothing is queued, else sends the queued one', () => {
  const c = new ElectionConnections<string>(3n);
  c.initialReceived(1, 4n);
  c.send(4n, 'v1');
  c.writeDone(1);
  c.closed(1);
  assert.equal(c.isConnected(4n), false);
  assert.deepEqual(of(c.initialReceived(2, 4n), 'write').map((w) => w.message), ['v1']);
  c.writeDone(2);
  c.closed(2);
  c.send(4n, 'v2');
  assert.deepEqual(of(c.initialReceived(3, 4n), 'write').map((w) => w.message), ['v2']);
});

test('losing the connection in use to a peer is reported (it may have died); losing a replaced one is not', () => {
  const c = new ElectionConnections<string>(3n);
  c.initialReceived(1, 4n);
  c.send(4n, 'v1');
  c.writeDone(1);
  c.initialReceived(2, 4n); // a newer connection replaces 1
  assert.deepEqual(of(c.closed(1), 'lost'), [], 'the replaced connection');
  assert.deepEqual(of(c.closed(2), 'lost'), [{ type: 'lost', sid: 4n }]);
  assert.deepEqual(c.closed(2), [], 'already forgotten');
});

test('own messages loop back; connectAll dials only unconnected peers once', () => {
  const c = new ElectionConnections<string>(2n);
  assert.deepEqual(c.send(2n, 'mine'), [{ type: 'deliver', from: 2n, message: 'mine' }]);
  assert.deepEqual(c.send(1n, 'x'), [{ type: 'dial', sid: 1n }]);
  assert.deepEqual(c.send(3n, 'x'), [{ type: 'dial', sid: 3n }]);
  assert.deepEqual(c.connectAll(), [], 'dials in progress are not repeated');
  c.dialFailed(1n);
  c.initialReceived(9, 3n);
  assert.deepEqual(c.connectAll(), [{ type: 'dial', sid: 1n }]);
});

// Three members wired through an in-memory "network" of sockets; every pair must end with exactly
// one connection, opened by the larger sid, and every member's last message must arrive.
for (const who of ['everyone sends', 'only the smaller sids send'] as const)
test(`three members wired in memory converge on one connection per pair, opened by the larger sid (${who})`, () => {
  type Sock = { id: ConnId; dialer: bigint; acceptor: bigint; open: boolean };
  const nodes = new Map([1n, 2n, 3n].map((sid) => [sid, new ElectionConnections<string>(sid)]));
  const socks = new Map<ConnId, Sock>();
  const delivered = new Map<string, string[]>();
  let nextId = 1;
  const queue: Array<() => void> = [];
  const handle = (sid: bigint, outs: Out[]) => {
    for (const o of outs) {
      switch (o.type) {
        case 'dial': {
          const s: Sock = { id: nextId++, dialer: sid, acceptor: o.sid, open: true };
          socks.set(s.id, s);
          queue.push(() => handle(sid, nodes.get(sid)!.dialed(o.sid, s.id)));
          break;
        }
        case 'writeInitial': {
          const s = socks.get(o.conn)!;
          // Written before any close, so it arrives even on a connection its sender then drops.
          queue.push(() => handle(s.acceptor, nodes.get(s.acceptor)!.initialReceived(s.id, s.dialer)));
          break;
        }
        case 'write': {
          const s = socks.get(o.conn)!;
          const peer = s.dialer === sid ? s.acceptor : s.dialer;
          queue.push(() => {
            if (s.open) handle(peer, nodes.get(peer)!.received(s.id, o.message));
            handle(sid, nodes.get(sid)!.writeDone(s.id));
          });
          break;
        }
        case 'close': {
          const s = socks.get(o.conn)!;
          if (!s.open) break;
          s.open = false;
          queue.push(() => {
            handle(s.dialer, nodes.get(s.dialer)!.closed(s.id));
            handle(s.acceptor, nodes.get(s.acceptor)!.closed(s.id));
          });
          break;
        }
        case 'deliver': {
          const k = `${o.from}>${sid}`;
          delivered.set(k, [...(delivered.get(k) ?? []), o.message]);
          break;
        }
        default:
          break;
      }
    }
  };
  for (const [sid, n] of nodes) for (const to of [1n, 2n, 3n]) if (who === 'everyone sends' || to >= sid) handle(sid, n.send(to, `vote of ${sid}`));
  for (let i = 0; queue.length > 0 && i < 1000; i++) queue.shift()!();
  const open = [...socks.values()].filter((s) => s.open).map((s) => `${s.dialer}->${s.acceptor}`).sort();
  assert.deepEqual(open, ['2->1', '3->1', '3->2']);
  for (const from of [1n, 2n, 3n]) {
    for (const to of [1n, 2n, 3n]) {
      if (who === 'everyone sends' || to >= from) assert.ok(delivered.get(`${from}>${to}`)?.includes(`vote of ${from}`), `${from} -> ${to}`);
    }
  }
});
