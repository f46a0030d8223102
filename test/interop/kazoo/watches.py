"""Data, exist and child watches: which events fire, one-shot semantics, and ordering relative to
reads (an event must reach the client before a later read that observes the change)."""
import threading
from common import EventLog, client, main, wait_for


def scenario(r):
    zk = client()
    other = client()
    log = EventLog()
    zk.create("/w", b"0")
    zk.create("/w/a", b"a")
    # Data watch: fires once on set, not again.
    zk.get("/w/a", watch=log.watcher("get a"))
    other.set("/w/a", b"a1")
    log.wait_count(1)
    other.set("/w/a", b"a2")
    zk.sync("/w")
    # Exist watch on a missing node fires on create; on a present node fires on delete.
    zk.exists("/w/b", watch=log.watcher("exists b"))
    other.create("/w/b", b"")
    log.wait_count(2)
    zk.exists("/w/b", watch=log.watcher("exists b present"))
    other.delete("/w/b")
    log.wait_count(3)
    # Child watch: create fires NodeChildrenChanged; data change of the child does not.
    zk.get_children("/w", watch=log.watcher("children w"))
    other.set("/w/a", b"a3")
    other.create("/w/c", b"")
    log.wait_count(4)
    # Deleting a watched node fires data and child watches with NodeDeleted.
    other.create("/w/d", b"")
    zk.get("/w/d", watch=log.watcher("get d"))
    zk.get_children("/w/d", watch=log.watcher("children d"))
    other.delete("/w/d")
    log.wait_count(6)
    # Same watcher object registered twice triggers once; different ones each trigger.
    same = log.watcher("same")
    zk.get("/w/a", watch=same)
    zk.exists("/w/a", watch=same)
    zk.get("/w/a", watch=log.watcher("second"))
    other.set("/w/a", b"a4")
    log.wait_count(8)
    # kazoo calls the two watchers in its own set order: the client decides that, not the server.
    log.sort_tail(2)
    zk.sync("/w")
    # Event-before-read: a read issued after the change was observed by the watcher's server must
    # be preceded by the event. We record the order of (event, read result) on one session.
    order = []
    ev_seen = threading.Event()

    def w(ev):
        order.append("event:" + ev.type)
        ev_seen.set()

    zk.get("/w/a", watch=w)
    other.set("/w/a", b"a5")
    data, _ = zk.get("/w/a")  # may or may not see a5; if it does, the event must already be in
    order.append("read:" + data.decode())
    ev_seen.wait(10)
    if order and order[0] == "read:a4":
        order = sorted(order)  # read ran before the change; the relative order says nothing
    r.add("event before read", order)
    # Watch on a node removed via the parent's child watch and data watch on the parent.
    zk.get("/w", watch=log.watcher("get w"))
    other.set("/w", b"1")
    wait_for(lambda: any(e[0] == "get w" for e in log.snapshot()))
    # Ephemeral of another session vanishing triggers NodeDeleted on an exists watch.
    third = client()
    third.create("/w/eph", b"", ephemeral=True)
    zk.exists("/w/eph", watch=log.watcher("exists eph"))
    zk.get_children("/w", watch=log.watcher("children w after eph"))
    third.stop()
    third.close()
    wait_for(lambda: any(e[0] == "exists eph" for e in log.snapshot()))
    wait_for(lambda: any(e[0] == "children w after eph" for e in log.snapshot()))
    zk.sync("/w")
    # Events are recorded in arrival order; per-session ordering is deterministic for both servers.
    r.add("events", log.snapshot())
    # DataWatch / ChildrenWatch helpers (they re-register after each event).
    seen = []
    zk.DataWatch("/w/dw", lambda data, stat: seen.append(None if data is None else data.decode()))
    kids = []
    zk.ChildrenWatch("/w", lambda c: kids.append(sorted(c)))
    other.create("/w/dw", b"v1")
    wait_for(lambda: "v1" in seen)
    other.set("/w/dw", b"v2")
    wait_for(lambda: "v2" in seen)
    other.delete("/w/dw")
    wait_for(lambda: len(seen) >= 4)
    r.add("DataWatch", seen)
    wait_for(lambda: len(kids) >= 3)
    r.add("ChildrenWatch", kids[:3])
    other.stop()
    other.close()
    zk.stop()
    zk.close()


main(scenario)
