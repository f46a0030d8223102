"""A kazoo Lock contender for the cross-client chaos test (test/interop/curator-kazoo-chaos.test.ts).

Usage: peer_holder.py hosts lock_path duration_ms session_timeout_ms
Prints READY once connected and waits for a line on stdin; then loops for duration_ms: acquires kazoo's Lock with a short timeout and, while connected, holds it
for a few ms. Each hold is printed as "HOLD <start ms> <end ms>" (wall clock): start is taken after
the acquire returned, end before the release, and a hold ends early when the connection drops
(from then on the session may expire and the lock go to someone else). Prints "DONE <holds>".
"""
import logging
import sys
import threading
import time

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import KazooException, LockTimeout

logging.basicConfig(level=logging.CRITICAL)

hosts, lock_path = sys.argv[1], sys.argv[2]
duration = int(sys.argv[3]) / 1000.0
session_timeout = int(sys.argv[4]) / 1000.0
now_ms = lambda: int(time.time() * 1000)
connected = threading.Event()


def listener(state):
    if state == KazooState.CONNECTED:
        connected.set()
    else:
        connected.clear()


def new_client():
    while True:
        zk = KazooClient(hosts=hosts, timeout=session_timeout, connection_retry={"max_tries": -1, "delay": 0.02, "max_delay": 0.1})
        zk.add_listener(listener)
        try:
            zk.start(timeout=10)
            connected.set()
            return zk
        except Exception:
            try:
                zk.stop()
                zk.close()
            except Exception:
                pass
            time.sleep(0.05)


zk = new_client()
print("READY", flush=True)
sys.stdin.readline()
holds = 0
end_at = time.time() + duration
while time.time() < end_at:
    if not zk.connected and zk.state == KazooState.LOST:
        try:
            zk.stop()
            zk.close()
        except Exception:
            pass
        zk = new_client()
    lock = zk.Lock(lock_path, "py")
    try:
        got = lock.acquire(timeout=0.5)
    except LockTimeout:
        got = False
    except Exception:
        got = False
        time.sleep(0.02)
    if not got:
        continue
    if connected.is_set():
        start = now_ms()
        for _ in range(5):
            if not connected.is_set():
                break
            time.sleep(0.003)
        end = now_ms()
        holds += 1
        print("HOLD %d %d" % (start, end), flush=True)
    try:
        lock.release()
    except Exception:
        pass
print("DONE %d" % holds, flush=True)
try:
    zk.stop()
    zk.close()
except Exception:
    pass
