"""Size-bounded retention (`store.retention_bytes`) against the real daemon and a real HTTP
sink: settled events make room oldest first, unsettled ones are never dropped (publishers
get 503 until the subscription catches up), and a bad size is refused at start-up."""

import shutil
import subprocess
import tempfile
import time

from harness import EvmeshTestCase, Reply, evmeshd_path, wait_until
from test_docs_examples import fenced_block_after, read_doc

CAP = 2048          # bytes of event records; an event below takes ~150
PAYLOAD = b"x" * 100


class RetentionBytesTest(EvmeshTestCase):
    start_daemon = False

    def setUp(self):
        super().setUp()
        self.data = tempfile.mkdtemp(prefix="evmesh-retention-")
        self.addCleanup(shutil.rmtree, self.data, True)

    def start(self, sink, retention="0s"):
        return self.start_evmeshd(
            f"store: {{data_dir: {self.data}, retention: {retention}, retention_bytes: {CAP}}}\n"
            "subscriptions:\n"
            "  - id: orders\n"
            f"    sink: {sink.url}\n"
            "    durable: true\n"
            "    delivery: {maxattempts: 1000, initialbackoff: 50ms, maxbackoff: 100ms}\n")

    def publish(self, daemon, id):
        return self.publish_binary(PAYLOAD, daemon=daemon, id=id)

    def test_unsettled_events_fill_the_cap_then_publishers_get_503_and_nothing_is_lost(self):
        sink = self.make_sink(default=Reply(503))  # down: nothing gets settled
        daemon = self.start(sink)
        accepted = []
        for i in range(200):
            res = self.publish(daemon, f"e{i}")
            if res.status != 202:
                break
            accepted.append(f"e{i}")
        self.assertProblem(res, 503, type="store-unavailable",
                           detail_contains="the event store is full")
        self.assertIn("subscription 'orders' has not settled them yet", res.json()["detail"])
        self.assertEqual(res.headers.get("retry-after"), "1")
        self.assertGreater(len(accepted), 3)
        self.assertLess(len(accepted), CAP // len(PAYLOAD) + 1)

        # The sink comes back: everything acked arrives, then publishers are let in again.
        with sink.cond:
            sink.default = Reply(200)
        wait_until(lambda: set(accepted) <= {r.ce("id") for r in sink.wait_for(1)},
                   timeout=15, what="every accepted event delivered")
        wait_until(lambda: self.publish(daemon, "after").status == 202, timeout=10,
                   what="publishing accepted again")
        wait_until(lambda: "after" in {r.ce("id") for r in sink.wait_for(1)}, what="'after' delivered")

    def test_settled_events_make_room_oldest_first_despite_the_age_retention(self):
        sink = self.make_sink()
        daemon = self.start(sink, retention="1h")
        ids = [f"e{i:02}" for i in range(40)]
        for n, id in enumerate(ids, 1):
            res = self.publish(daemon, id)
            self.assertEqual(res.status, 202, res)
            sink.wait_for(n)  # settled before the next one, so no publish meets a full log

        with sink.cond:
            sink.requests.clear()
        res = daemon.request("POST", "/admin/subscriptions/orders/replay", {"from": "oldest"})
        self.assertEqual(res.status, 200, res)
        # What the log kept: the newest events, as many as fit, in order.
        wait_until(lambda: sink.count() > 0 and sink.wait_for(1)[-1].ce("id") == ids[-1],
                   what="the replay reaches the newest event")
        replayed = [r.ce("id") for r in sink.wait_for(1)]
        self.assertEqual(replayed, ids[-len(replayed):])
        self.assertGreater(len(replayed), 3)
        self.assertLess(len(replayed), CAP // len(PAYLOAD) + 1)

    def test_the_docs_example_is_a_valid_config(self):
        config = fenced_block_after(read_doc("docs/storage.md"), "## Retention by age and size", "yaml")
        path = f"{self.data}/retention.yaml"
        with open(path, "w") as f:
            f.write(config)
        out = subprocess.run([evmeshd_path(), "--config", path, "--check-config"],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_bad_size_is_refused_naming_the_key(self):
        out = subprocess.run([evmeshd_path(), "--config", "/dev/null", "--check-config",
                              "--set", "store.retention_bytes=lots"],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 2, out)
        self.assertIn("store.retention_bytes", out.stderr)
