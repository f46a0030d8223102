"""ACLs and digest auth: which permission each operation checks and how errors come back."""
from kazoo.security import (ACL, Id, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, CREATOR_ALL_ACL,
                            make_acl, make_digest_acl, Permissions)
from common import HOSTS, client, main


def unknown_auth_scheme():
    """The server answers AuthFailed and closes. Kazoo reports it as AuthFailedError when the failure
    arrives after start() saw CONNECTED; when it arrives first, the AUTH_FAILED state change wakes
    start() at once, which then says "Connection time-out" (and its stop() leaves the state CLOSED).
    A real time-out takes the whole start() timeout; an early one is the server's refusal. Both
    servers show both outcomes under load, so only the refusal itself is compared."""
    import time
    from kazoo.client import KazooClient
    from kazoo.exceptions import AuthFailedError
    from kazoo.handlers.threading import KazooTimeoutError
    c = KazooClient(hosts=HOSTS, timeout=10.0, auth_data=[("nosuch", "x")])
    started = time.monotonic()
    try:
        c.start(timeout=15)
        return c.get("/o")
    except AuthFailedError:
        return {"error": "AuthFailedError"}
    except KazooTimeoutError:
        refused = c.client_state == "AUTH_FAILED" or time.monotonic() - started < 14
        return {"error": "AuthFailedError" if refused else "KazooTimeoutError"}
    finally:
        c.stop()
        c.close()


def scenario(r):
    admin = client(auth_data=[("digest", "admin:secret")])
    anon = client()
    r.do("digest acl", lambda: make_digest_acl("admin", "secret", all=True))
    r.do("create creator-all", admin.create, "/a", b"secret", acl=CREATOR_ALL_ACL)
    r.do("get acls", admin.get_acls, "/a")
    r.do("anon get", anon.get, "/a")
    r.do("anon set", anon.set, "/a", b"x")
    r.do("anon exists", anon.exists, "/a")
    r.do("anon children", anon.get_children, "/a")
    r.do("anon create child", anon.create, "/a/kid", b"")
    r.do("anon get_acls", anon.get_acls, "/a")
    r.do("anon set_acls", anon.set_acls, "/a", OPEN_ACL_UNSAFE)
    r.do("admin create child", admin.create, "/a/kid", b"k", acl=OPEN_ACL_UNSAFE)
    r.do("anon get child", anon.get, "/a/kid")
    r.do("anon delete child (no DELETE on parent)", anon.delete, "/a/kid")
    r.do("anon delete (needs DELETE on the parent only)", anon.delete, "/a/kid")
    r.do("admin recreate child", admin.create, "/a/kid", b"k", acl=OPEN_ACL_UNSAFE)
    # Wrong password: auth is accepted by the server but grants nothing.
    r.do("wrong password add_auth", anon.add_auth, "digest", "admin:wrong")
    r.do("wrong password get", anon.get, "/a")
    r.do("right password add_auth", anon.add_auth, "digest", "admin:secret")
    r.do("right password get", anon.get, "/a")
    # Each permission bit alone.
    for name, perm in [("READ", Permissions.READ), ("WRITE", Permissions.WRITE), ("CREATE", Permissions.CREATE),
                       ("DELETE", Permissions.DELETE), ("ADMIN", Permissions.ADMIN)]:
        p = "/p_" + name
        r.do("create " + p, admin.create, p, b"d", acl=[make_acl("world", "anyone", **{name.lower(): True})])
        r.do(p + " create child", admin.create, p + "/c", b"", acl=OPEN_ACL_UNSAFE)
        guest = client()
        r.do(p + " get", guest.get, p)
        r.do(p + " set", guest.set, p, b"x")
        r.do(p + " children", guest.get_children, p)
        r.do(p + " create", guest.create, p + "/g", b"")
        r.do(p + " delete child", guest.delete, p + "/c")
        r.do(p + " get_acls", guest.get_acls, p)
        r.do(p + " set_acls", guest.set_acls, p, [make_acl("world", "anyone", all=True)])
        r.do(p + " exists", guest.exists, p)
        guest.stop()
        guest.close()
    # set_acls versions and invalid ACLs.
    r.do("create open", admin.create, "/o", b"", acl=OPEN_ACL_UNSAFE)
    r.do("set_acls v0", admin.set_acls, "/o", [make_acl("world", "anyone", read=True, admin=True)], version=0)
    r.do("set_acls bad version", admin.set_acls, "/o", OPEN_ACL_UNSAFE, version=0)
    r.do("set_acls v1", admin.set_acls, "/o", OPEN_ACL_UNSAFE, version=1)
    r.do("stat after acl", admin.exists, "/o")
    r.do("set_acls read-only", admin.set_acls, "/o", READ_ACL_UNSAFE)
    r.do("set_acls without ADMIN, bad version", admin.set_acls, "/o", OPEN_ACL_UNSAFE, version=0)
    r.do("empty acl", admin.create, "/empty", b"", acl=[])
    r.do("bad scheme", admin.create, "/bad", b"", acl=[ACL(31, Id("nosuch", "x"))])
    r.do("bad digest id", admin.create, "/bad", b"", acl=[ACL(31, Id("digest", "nocolon"))])
    r.do("world not anyone", admin.create, "/bad", b"", acl=[ACL(31, Id("world", "someone"))])
    r.do("bad ip", admin.create, "/bad", b"", acl=[ACL(31, Id("ip", "300.1.1.1"))])
    r.do("auth without auth", anon.create, "/bad2", b"", acl=[ACL(31, Id("auth", ""))])
    fresh = client()
    r.do("auth scheme with no ids", fresh.create, "/bad3", b"", acl=CREATOR_ALL_ACL)
    fresh.stop()
    fresh.close()
    r.do("perms 0", admin.create, "/zero", b"", acl=[ACL(0, Id("world", "anyone"))])
    r.do("zero get", admin.get, "/zero")
    r.do("ip acl", admin.create, "/ip", b"i", acl=[make_acl("ip", "127.0.0.1", all=True)])
    r.do("ip get", anon.get, "/ip")
    r.do("cidr acl", admin.create, "/cidr", b"c", acl=[make_acl("ip", "127.0.0.0/8", read=True)])
    r.do("cidr get", anon.get, "/cidr")
    r.do("other net", admin.create, "/net", b"n", acl=[make_acl("ip", "10.1.0.0/16", read=True)])
    r.do("other net get", anon.get, "/net")
    r.do("unknown auth scheme", unknown_auth_scheme)
    r.do("/zookeeper acl", admin.get_acls, "/zookeeper")
    admin.stop()
    admin.close()
    anon.stop()
    anon.close()


main(scenario)
