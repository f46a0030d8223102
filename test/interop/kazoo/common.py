"""Shared helpers for the kazoo interop scripts.

Each script takes the server's host:port as argv[1], performs a deterministic scenario and prints
one line `RESULT <json>`: a list of [label, value] steps. The node test runs the same script
against Apache ZooKeeper and against our server and compares the lists. Values that legitimately
differ between servers (zxids, times, session ids) are normalised here.
"""
import json
import logging
import sys
import threading
import time
import traceback

from kazoo.client import KazooClient

logging.basicConfig(level=logging.CRITICAL)

HOSTS = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:2181"


class Recorder:
    def __init__(self):
        self.steps = []
        self._zxids = {}
        self._sessions = {}

    def zxid(self, z):
        """Labels zxids by first appearance so equalities survive but absolute values do not."""
        if z not in self._zxids:
            self._zxids[z] = "z%d" % (len(self._zxids) + 1)
        return self._zxids[z]

    def name_session(self, session_id, name):
        self._sessions[session_id] = name

    def session(self, sid):
        if sid == 0:
            return 0
        return self._sessions.get(sid, "other-session")

    def stat(self, st):
        if st is None:
            return None
        return {
            "czxid": self.zxid(st.czxid),
            "mzxid": self.zxid(st.mzxid),
            "pzxid": self.zxid(st.pzxid),
            "ctime_ok": st.ctime > 1500000000000,
            "mtime_ge_ctime": st.mtime >= st.ctime,
            "version": st.version,
            "cversion": st.cversion,
            "aversion": st.aversion,
            "ephemeralOwner": self.session(st.ephemeralOwner),
            "dataLength": st.dataLength,
            "numChildren": st.numChildren,
        }

    def add(self, label, value):
        sys.stderr.write("step %s\n" % label)
        self.steps.append([label, value])

    def do(self, label, fn, *args, **kwargs):
        """Runs fn, records its normalised result or the exception class name; returns the result."""
        try:
            res = fn(*args, **kwargs)
            self.add(label, self.norm(res))
            return res
        except Exception as e:  # noqa: BLE001 - every error is a result to compare
            self.add(label, {"error": type(e).__name__})
            return None

    def norm(self, v):
        from kazoo.protocol.states import ZnodeStat
        from kazoo.security import ACL, Id
        if isinstance(v, ZnodeStat):
            return self.stat(v)
        if isinstance(v, ACL):
            return {"perms": v.perms, "scheme": v.id.scheme, "id": v.id.id}
        if isinstance(v, Id):
            return {"scheme": v.scheme, "id": v.id}
        if isinstance(v, bytes):
            try:
                return v.decode("utf-8")
            except UnicodeDecodeError:
                return {"hex": v.hex()}
        if isinstance(v, (list, tuple)):
            return [self.norm(x) for x in v]
        if isinstance(v, dict):
            return {str(k): self.norm(x) for k, x in v.items()}
        if isinstance(v, Exception):
            return {"error": type(v).__name__}
        if v is None or isinstance(v, (int, float, str, bool)):
            return v
        return repr(v)

    def emit(self):
        sys.stdout.write("RESULT " + json.dumps(self.steps) + "\n")
        sys.stdout.flush()


def client(**kwargs):
    c = KazooClient(hosts=HOSTS, timeout=10.0, **kwargs)
    c.start(timeout=15)
    return c


def wait_for(pred, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


SCENARIO_TIMEOUT = 90.0


def main(fn):
    rec = Recorder()

    def watchdog():
        # A kazoo call blocks forever if the connection thread died (e.g. on an error code kazoo
        # does not know); report what we have instead of hanging.
        time.sleep(SCENARIO_TIMEOUT)
        rec.add("SCRIPT-TIMEOUT", "scenario did not finish in %ds" % SCENARIO_TIMEOUT)
        rec.emit()
        import os
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    try:
        fn(rec)
    except Exception:  # noqa: BLE001
        rec.add("SCRIPT-CRASH", traceback.format_exc().splitlines()[-1])
        traceback.print_exc(file=sys.stdout)
    rec.emit()
    # Recipes may leave kazoo threads behind; do not let them hold the process.
    sys.stdout.flush()
    import os
    os._exit(0)


class EventLog:
    """Collects watch events in arrival order, thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = []

    def watcher(self, tag):
        def w(ev):
            with self.lock:
                self.events.append([tag, ev.type, ev.state, ev.path])
        return w

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def wait_count(self, n, timeout=10.0):
        return wait_for(lambda: len(self.snapshot()) >= n, timeout)

    def sort_tail(self, n):
        """Sort the last n events: for callbacks whose relative order the client library picks."""
        with self.lock:
            self.events[-n:] = sorted(self.events[-n:])
