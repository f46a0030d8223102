"""Sessions: resume after a dropped connection (ephemerals kept, missed watch events delivered via
setWatches), expiry while disconnected, wrong password, ephemerals vanishing on close."""
import socket
import threading
import time
from kazoo.client import KazooClient
from kazoo.protocol.states import KazooState
from common import EventLog, HOSTS, client, main, wait_for


class Proxy:
    """A TCP relay we can cut, so a client loses its connection without closing its session."""

    def __init__(self, target):
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.conns = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                c.close()
                continue
            try:
                s = socket.create_connection(self.target)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, s]
            threading.Thread(target=self._pipe, args=(c, s), daemon=True).start()
            threading.Thread(target=self._pipe, args=(s, c), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            x.close()

    def cut(self, stay_down):
        self.up = not stay_down
        with self.lock:
            conns, self.conns = self.conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def restore(self):
        self.up = True


def scenario(r):
    proxy = Proxy(HOSTS)
    b = client()
    b.create("/x", b"0")
    a = KazooClient(hosts="127.0.0.1:%d" % proxy.port, timeout=6.0)
    states = []
    a.add_listener(lambda s: states.append(s))
    a.start(timeout=15)
    sid_before = a.client_id[0]
    r.add("negotiated timeout", a._session_timeout)
    r.name_session(sid_before, "a")
    r.do("a creates ephemeral", a.create, "/eph-a", b"", ephemeral=True)
    log = EventLog()
    a.get("/x", watch=log.watcher("data x"))
    a.exists("/y", watch=log.watcher("exists y"))
    a.get_children("/x", watch=log.watcher("children x"))
    a.exists("/x/gone", watch=log.watcher("exists gone"))
    b.create("/x/gone", b"")
    log.wait_count(1)
    a.exists("/x/gone", watch=log.watcher("exists gone 2"))
    # Drop a's connection and keep it down while b makes changes a is watching.
    proxy.cut(stay_down=True)
    r.add("a suspended", wait_for(lambda: KazooState.SUSPENDED in states))
    b.set("/x", b"1")
    b.create("/y", b"")
    b.create("/x/kid", b"")
    b.delete("/x/gone")
    time.sleep(0.5)
    proxy.restore()
    r.add("a reconnected", wait_for(lambda: a.connected and states[-1] == KazooState.CONNECTED, 20))
    r.add("same session", a.client_id[0] == sid_before)
    r.add("states", [str(s) for s in states])
    log.wait_count(5, 10)
    a.sync("/")
    # kazoo 2.8 does not send SetWatches: it fires NONE events at every watcher on disconnect and
    # drops them, so this records that plus the events that arrived before the cut.
    r.add("watch events across the cut", sorted(log.snapshot()))
    r.do("ephemeral survived", b.exists, "/eph-a")
    # Expiry: cut for longer than the session timeout.
    states.clear()
    proxy.cut(stay_down=True)
    time.sleep(a._session_timeout / 1000.0 + 4)
    r.do("ephemeral gone after expiry", b.exists, "/eph-a")
    proxy.restore()
    r.add("a lost", wait_for(lambda: KazooState.LOST in states, 20))
    a.stop()
    a.close()
    # Resuming with a wrong password or an expired session id.
    c = client()
    sid, pw = c.client_id
    c.create("/eph-c", b"", ephemeral=True)
    bad = KazooClient(hosts=HOSTS, timeout=6.0, client_id=(sid, b"\x00" * 16))
    bad_states = []
    bad.add_listener(lambda s: bad_states.append(s))
    try:
        bad.start(timeout=5)
        r.add("wrong password start", "connected")
    except Exception as e:  # noqa: BLE001
        r.add("wrong password start", type(e).__name__)
    r.add("wrong password states", [str(s) for s in bad_states])
    r.add("wrong password got a new session", bad.client_id is not None and bad.client_id[0] != sid)
    bad.stop()
    bad.close()
    r.do("original session unaffected", c.exists, "/eph-c")
    # A second client resuming the same session (right password) takes it over.
    twin = KazooClient(hosts=HOSTS, timeout=6.0, client_id=(sid, pw))
    twin.start(timeout=15)
    r.add("resume with right password", twin.client_id[0] == sid)
    r.do("twin sees own ephemeral owner", lambda: twin.exists("/eph-c").ephemeralOwner == sid)
    # Ephemerals vanish on close, observed through another client's watch.
    gone = threading.Event()
    b.exists("/eph-c", watch=lambda ev: gone.set())
    twin.stop()
    twin.close()
    r.add("close fires NodeDeleted", gone.wait(10))
    r.do("ephemeral gone after close", b.exists, "/eph-c")
    c.stop()
    c.close()
    # Expired session id reused.
    old = KazooClient(hosts=HOSTS, timeout=6.0, client_id=(sid, pw))
    old_states = []
    old.add_listener(lambda s: old_states.append(s))
    try:
        old.start(timeout=5)
        r.add("closed session resume", "connected")
    except Exception as e:  # noqa: BLE001
        r.add("closed session resume", type(e).__name__)
    r.add("closed session states", [str(s) for s in old_states])
    r.add("closed session got a new session", old.client_id is not None and old.client_id[0] != sid)
    old.stop()
    old.close()
    r.do("children /", lambda: sorted(b.get_children("/")))
    b.stop()
    b.close()


main(scenario)
