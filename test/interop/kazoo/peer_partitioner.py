"""A kazoo SetPartitioner member driven by test/interop/kazoo-recipes.test.ts (not a comparison scenario).

Usage: peer_partitioner.py hosts path item,item,... identifier
Prints "ACQUIRED <json list>" each time it holds a partition, "STATE <name>" on other states, and
finishes (releases its locks and leaves the party) when stdin closes. Bounded: exits after 120 s.
"""
import json
import logging
import sys
import threading
import time

from kazoo.client import KazooClient

logging.basicConfig(level=logging.CRITICAL)

hosts, path, items, identifier = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
zk = KazooClient(hosts=hosts, timeout=4.0)
zk.start(timeout=20)
done = threading.Event()


def wait_stdin():
    sys.stdin.read()
    done.set()


threading.Thread(target=wait_stdin, daemon=True).start()
qp = zk.SetPartitioner(path=path, set=items, identifier=identifier, time_boundary=0.5, max_reaction_time=0.2)
print("STARTED", flush=True)
seen = None
deadline = time.time() + 120
while not done.is_set() and time.time() < deadline:
    if qp.failed:
        print("STATE FAILURE", flush=True)
        break
    elif qp.release:
        print("STATE RELEASE", flush=True)
        qp.release_set()
    elif qp.acquired:
        if seen != qp.state_id:
            seen = qp.state_id
            print("ACQUIRED " + json.dumps(sorted(qp)), flush=True)
        time.sleep(0.05)
    elif qp.allocating:
        qp.wait_for_acquire(0.2)
qp.finish()
zk.stop()
print("FINISHED", flush=True)
