"""multi/transactions: successful batches, failing batches (first error, others rolled back),
check ops, and that nothing of a failed batch is applied."""
from common import client, main


def scenario(r):
    zk = client()
    r.name_session(zk.client_id[0], "self")
    zk.create("/m", b"")
    t = zk.transaction()
    t.create("/m/a", b"1")
    t.create("/m/b", b"2", ephemeral=True)
    t.create("/m/s-", b"3", sequence=True)
    t.set_data("/m/a", b"11")
    t.check("/m/a", 1)
    r.do("ok batch", t.commit)
    r.do("children", lambda: sorted(zk.get_children("/m")))
    r.do("stat a", zk.exists, "/m/a")
    r.do("stat b", zk.exists, "/m/b")
    # Failing in the middle: everything rolled back.
    t = zk.transaction()
    t.create("/m/c", b"")
    t.set_data("/m/a", b"x", version=99)
    t.delete("/m/b")
    r.do("bad version batch", t.commit)
    r.do("c absent", zk.exists, "/m/c")
    r.do("b present", lambda: zk.exists("/m/b") is not None)
    for label, build in [
        ("create exists", lambda t: (t.create("/m/a", b""),)),
        ("create no parent", lambda t: (t.create("/m/x/y", b""),)),
        ("delete no node", lambda t: (t.create("/m/d", b""), t.delete("/m/nope"))),
        ("delete not empty", lambda t: (t.delete("/m"),)),
        ("check bad version", lambda t: (t.check("/m/a", 0), t.create("/m/e", b""))),
        ("check no node", lambda t: (t.check("/m/nope", 0),)),
        ("set no node", lambda t: (t.set_data("/m/nope", b""),)),
        ("child of eph", lambda t: (t.create("/m/b/kid", b""),)),
        ("create then delete", lambda t: (t.create("/m/tmp", b""), t.delete("/m/tmp"))),
        ("create then child", lambda t: (t.create("/m/p", b""), t.create("/m/p/q", b""), t.set_data("/m/p/q", b"z"))),
        ("delete then recreate", lambda t: (t.delete("/m/p/q"), t.create("/m/p/q", b"again"))),
        ("fail last", lambda t: (t.create("/m/f1", b""), t.create("/m/f2", b""), t.create("/m/f1", b""))),
        ("seq in multi", lambda t: (t.create("/m/s-", b"", sequence=True), t.create("/m/s-", b"", sequence=True))),
        ("empty", lambda t: ()),
    ]:
        t = zk.transaction()
        build(t)
        r.do(label, t.commit)
    r.do("final children", lambda: sorted(zk.get_children("/m")))
    r.do("stat /m", zk.exists, "/m")
    r.do("p/q", zk.get, "/m/p/q")
    zk.stop()
    zk.close()


main(scenario)
