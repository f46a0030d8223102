"""kazoo's recipes with several clients: Lock, Election, Barrier, DoubleBarrier, Counter, Queue,
LockingQueue and TreeCache. Results are summaries that do not depend on thread scheduling."""
import threading
import time
from kazoo.recipe.cache import TreeCache, TreeEvent
from common import client, main, wait_for

N_CLIENTS = 4


def run_threads(fns):
    ts = [threading.Thread(target=f) for f in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return all(not t.is_alive() for t in ts)


def scenario(r):
    clients = [client() for _ in range(N_CLIENTS)]
    zk = clients[0]

    # Lock: mutual exclusion around a read-modify-write of an unversioned znode.
    zk.create("/lock-data", b"0")
    holders = [0]
    max_holders = [0]
    guard = threading.Lock()

    def locker(c):
        def run():
            lock = c.Lock("/lock", "me")
            for _ in range(10):
                with lock:
                    with guard:
                        holders[0] += 1
                        max_holders[0] = max(max_holders[0], holders[0])
                    v = int(c.get("/lock-data")[0])
                    c.set("/lock-data", str(v + 1).encode())
                    with guard:
                        holders[0] -= 1
        return run

    r.add("lock threads finished", run_threads([locker(c) for c in clients]))
    r.add("lock counter", int(zk.get("/lock-data")[0]))
    r.add("lock max holders", max_holders[0])
    r.add("lock node empty", zk.get_children("/lock"))

    # Election: every client becomes leader exactly once, one at a time.
    leaders = []
    in_office = [0]
    max_office = [0]

    def candidate(c, i):
        def lead():
            with guard:
                in_office[0] += 1
                max_office[0] = max(max_office[0], in_office[0])
                leaders.append(i)
            time.sleep(0.05)
            with guard:
                in_office[0] -= 1

        def run():
            c.Election("/election", "c%d" % i).run(lead)
        return run

    r.add("election threads finished", run_threads([candidate(c, i) for i, c in enumerate(clients)]))
    r.add("election leaders", sorted(leaders))
    r.add("election max concurrent", max_office[0])

    # Barrier: waiters block until the barrier is removed.
    barrier = zk.Barrier("/barrier")
    barrier.create()
    passed = []

    def waiter(c, i):
        def run():
            if c.Barrier("/barrier").wait(20):
                passed.append(i)
        return run

    ts = [threading.Thread(target=waiter(c, i)) for i, c in enumerate(clients[1:])]
    for t in ts:
        t.start()
    time.sleep(0.5)
    r.add("barrier holds", len(passed))
    barrier.remove()
    for t in ts:
        t.join(30)
    r.add("barrier released", sorted(passed))

    # DoubleBarrier: all enter together, all leave together.
    entered = []

    def double(c, i):
        def run():
            db = c.DoubleBarrier("/double", N_CLIENTS)
            db.enter()
            with guard:
                entered.append(i)
            db.leave()
        return run

    r.add("double barrier finished", run_threads([double(c, i) for i, c in enumerate(clients)]))
    r.add("double barrier entered", sorted(entered))

    # Counter: concurrent increments are not lost.
    def counter(c):
        def run():
            cnt = c.Counter("/counter")
            for _ in range(25):
                cnt += 1
        return run

    r.add("counter threads finished", run_threads([counter(c) for c in clients]))
    r.add("counter value", zk.Counter("/counter").value)
    cnt = zk.Counter("/counter")
    cnt -= 10
    r.add("counter after -10", cnt.value)

    # Queue: every item put by producers is got by consumers exactly once.
    items = ["p%d-%d" % (p, i) for p in range(2) for i in range(15)]

    def producer(c, p):
        def run():
            q = c.Queue("/queue")
            for i in range(15):
                q.put(("p%d-%d" % (p, i)).encode())
        return run

    r.add("queue produce", run_threads([producer(clients[p], p) for p in range(2)]))
    got = []

    def consumer(c):
        def run():
            q = c.Queue("/queue")
            while True:
                v = q.get()
                if v is None:
                    return
                with guard:
                    got.append(v.decode())
        return run

    r.add("queue consume", run_threads([consumer(c) for c in clients[2:]]))
    r.add("queue exactly once", sorted(got) == sorted(items))
    r.add("queue len after", len(zk.Queue("/queue")))
    q = zk.Queue("/pq")
    for v, prio in [(b"low", 100), (b"high", 1), (b"mid", 50), (b"mid2", 50)]:
        q.put(v, priority=prio)
    r.add("priority order", [q.get().decode() for _ in range(4)])

    # LockingQueue: get/consume with a holder; items survive a consumer that does not consume.
    lq = clients[1].LockingQueue("/lq")
    for v in [b"a", b"b", b"c"]:
        lq.put(v)
    first = lq.get(5)
    r.add("lq first", first.decode())
    r.add("lq holds lock", lq.holds_lock())
    lq.release()
    lq2 = clients[2].LockingQueue("/lq")
    seen = []
    for _ in range(3):
        v = lq2.get(5)
        seen.append(v.decode())
        lq2.consume()
    r.add("lq consumed in order", seen)
    r.add("lq empty", len(lq2))

    # TreeCache: reflects changes made by another client.
    zk.create("/tc/a", b"1", makepath=True)
    events = []
    cache = TreeCache(zk, "/tc")
    cache.listen(lambda ev: events.append((ev.event_type, ev.event_data.path if ev.event_data else None)))
    cache.start()
    wait_for(lambda: any(e[0] == TreeEvent.INITIALIZED for e in events))
    other = clients[3]
    other.create("/tc/b/c", b"2", makepath=True)
    other.set("/tc/a", b"3")
    # Let the cache observe the update before the delete, or whether "updated" is seen is a race.
    wait_for(lambda: cache.get_data("/tc/a") is not None and cache.get_data("/tc/a").data == b"3")
    other.delete("/tc/a")
    wait_for(lambda: cache.get_data("/tc/a") is None and cache.get_data("/tc/b/c") is not None)
    time.sleep(0.3)
    kinds = {TreeEvent.NODE_ADDED: "added", TreeEvent.NODE_UPDATED: "updated", TreeEvent.NODE_REMOVED: "removed",
             TreeEvent.INITIALIZED: "initialized"}
    r.add("treecache events", sorted("%s %s" % (kinds.get(t, t), p) for t, p in events))
    r.add("treecache children", sorted(cache.get_children("/tc") or []))
    d = cache.get_data("/tc/b/c")
    r.add("treecache data", d.data.decode() if d else None)
    cache.close()
    for c in clients:
        c.stop()
        c.close()


main(scenario)
