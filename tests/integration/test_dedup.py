"""Duplicate suppression (`dedup.window`) against the real daemon, a real HTTP sink and a
real gRPC client: an event with the same source and id within the window is acked on
every protocol but delivered once; durable events' keys survive a restart; off by default."""

import shutil
import subprocess
import tempfile
import time

from grpc_harness import GrpcTestCase
from harness import EvmeshTestCase, evmeshd_path
from test_docs_examples import fenced_block_after, read_doc


def assert_stays_at(test, sink, n, wait=0.5):
    """No further delivery: the sink still has n requests after `wait` seconds."""
    time.sleep(wait)
    test.assertEqual(sink.count(), n, sink.requests)


class DedupAcrossProtocols(GrpcTestCase):
    sets = ("dedup.window=1m",)

    def test_duplicates_over_http_and_grpc_are_acked_but_delivered_once(self):
        sink = self.make_sink()
        self.subscribe(sink.url)
        for _ in range(3):
            self.assertEqual(self.publish_binary(b"x", id="a", source="/orders").status, 202)
        res = self.publish(self.event(id="a", source="/orders"))  # the same event over gRPC
        self.assertEqual(res.deliveries, 0)
        self.assertEqual(self.publish(self.event(id="b", source="/orders")).deliveries, 1)
        self.assertEqual(self.publish(self.event(id="b", source="/orders")).deliveries, 0)
        # The same id from another source is another event.
        self.assertEqual(self.publish_binary(b"x", id="a", source="/billing").status, 202)

        got = sink.wait_for(3)
        self.assertEqual([(r.ce("source"), r.ce("id")) for r in got],
                         [("/orders", "a"), ("/orders", "b"), ("/billing", "a")])
        self.assertEqual(self.publish_binary(b"x", id="b", source="/orders").status, 202)
        assert_stays_at(self, sink, 3)


class DedupDurableAndDefault(EvmeshTestCase):
    start_daemon = False

    def test_keys_of_durable_events_survive_a_restart(self):
        data = tempfile.mkdtemp(prefix="evmesh-dedup-")
        self.addCleanup(shutil.rmtree, data, True)
        sink = self.make_sink()
        config = ("dedup: {window: 1h}\n"
                  f"store: {{data_dir: {data}}}\n"
                  "subscriptions:\n"
                  "  - id: orders\n"
                  f"    sink: {sink.url}\n"
                  "    durable: true\n")
        daemon = self.start_evmeshd(config)
        self.assertEqual(self.publish_binary(b"x", daemon=daemon, id="a").status, 202)
        sink.wait_for(1)
        self.assertEqual(daemon.stop(), 0)

        daemon = self.start_evmeshd(config)
        daemon.wait_for_log(r"duplicate suppression: 1 keys restored")
        self.assertEqual(self.publish_binary(b"x", daemon=daemon, id="a").status, 202)
        self.assertEqual(self.publish_binary(b"x", daemon=daemon, id="b").status, 202)
        got = sink.wait_for(2)
        self.assertEqual([r.ce("id") for r in got], ["a", "b"])
        assert_stays_at(self, sink, 2)

    def test_the_docs_example_suppresses_duplicates(self):
        config = fenced_block_after(read_doc("docs/delivery.md"), "## Duplicate suppression", "yaml")
        daemon = self.start_evmeshd(config)
        sink = self.make_sink()
        self.subscribe(sink.url, daemon=daemon)
        for _ in range(2):
            self.assertEqual(self.publish_binary(b"x", daemon=daemon, id="a").status, 202)
        sink.wait_for(1)
        assert_stays_at(self, sink, 1)

    def test_off_by_default(self):
        daemon = self.start_evmeshd()
        sink = self.make_sink()
        self.subscribe(sink.url, daemon=daemon)
        for _ in range(2):
            self.assertEqual(self.publish_binary(b"x", daemon=daemon, id="a").status, 202)
        self.assertEqual([r.ce("id") for r in sink.wait_for(2)], ["a", "a"])

    def test_bad_window_is_refused_naming_the_key(self):
        out = subprocess.run([evmeshd_path(), "--config", "/dev/null", "--check-config",
                              "--set", "dedup.window=soon"],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(out.returncode, 2, out)
        self.assertIn("dedup.window", out.stderr)
