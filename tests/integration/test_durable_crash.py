"""Crash test of durable subscriptions: publish over HTTP at full speed, kill -9 the
daemon at random moments, restart on the same data directory, and check that every
event that got a 202 reached the (real HTTP) sink at least once, in order per
partition key. Duplicates are expected (at-least-once) and reported."""

import http.client
import os
import random
import shutil
import signal
import tempfile
import threading
import time
import unittest

from harness import EvmeshTestCase, binary_headers, wait_until

PUBLISHERS = 4
ROUNDS = 4


class DurableCrashTest(EvmeshTestCase):
    start_daemon = False

    def start_durable(self, sink, data_dir):
        config = (
            "subscriptions:\n"
            "  - id: crash\n"
            f"    sink: {sink.url}\n"
            "    durable: true\n"
            "    delivery: {maxattempts: 1000, initialbackoff: 10ms, maxbackoff: 100ms}\n")
        return self.start_evmeshd(config, sets=[f"store.data_dir={data_dir}"], log_level="info")

    def publish_until_stopped(self, daemon, key, stop, acked, lock):
        conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=5)
        self.addCleanup(conn.close)
        seq = 0
        while not stop.is_set():
            eid = f"{key}-{seq}"
            try:
                conn.request("POST", "/", b"payload",
                             binary_headers(id=eid, partitionkey=key,
                                            content_type="text/plain"))
                res = conn.getresponse()
                res.read()
            except (OSError, http.client.HTTPException):
                return  # the daemon was killed
            if res.status == 202:
                with lock:
                    acked.append(eid)
            seq += 1

    def test_kill_9_loses_no_acked_event(self):
        sink = self.make_sink()
        data_dir = tempfile.mkdtemp(prefix="evmesh-crash-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        rng = random.Random(int(os.environ.get("EVMESH_CRASH_SEED", time.time())))
        acked, lock = [], threading.Lock()

        for round_ in range(ROUNDS):
            daemon = self.start_durable(sink, data_dir)
            stop = threading.Event()
            publishers = [
                threading.Thread(target=self.publish_until_stopped,
                                 args=(daemon, f"r{round_}p{p}", stop, acked, lock))
                for p in range(PUBLISHERS)]
            for t in publishers:
                t.start()
            time.sleep(rng.uniform(0.3, 1.5))
            os.kill(daemon.proc.pid, signal.SIGKILL)
            daemon.wait()
            stop.set()
            for t in publishers:
                t.join(10)

        self.assertGreater(len(acked), 100, "too few events were published to test anything")
        daemon = self.start_durable(sink, data_dir)

        def received_ids():
            with sink.cond:
                return [r.ce("id") for r in sink.requests]

        wanted = set(acked)
        wait_until(lambda: wanted <= set(received_ids()), timeout=30,
                   what=f"all {len(wanted)} acked events at the sink")
        self.assertEqual(daemon.stop(), 0)

        received = received_ids()
        duplicates = len(received) - len(set(received))
        print(f"\ncrash test: {ROUNDS} kill -9, {len(wanted)} events acked, "
              f"{len(received)} deliveries, {duplicates} duplicates")
        # Per partition key, first deliveries come in publish order.
        first_seen, seen = {}, set()
        for eid in received:
            if eid in seen:
                continue
            seen.add(eid)
            key, seq = eid.rsplit("-", 1)
            first_seen.setdefault(key, []).append(int(seq))
        for key, order in first_seen.items():
            self.assertEqual(order, sorted(order), f"partition {key} delivered out of order")


if __name__ == "__main__":
    unittest.main()
