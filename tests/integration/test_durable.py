"""Durable subscriptions against the real daemon and a real HTTP sink: the API flag,
redelivery after a restart, a torn last record, an unusable data directory."""

import glob
import os
import shutil
import tempfile

from harness import EvmeshTestCase, Reply
from test_docs_examples import fenced_block_after, read_doc


class DurableTest(EvmeshTestCase):
    start_daemon = False

    def data_dir(self):
        path = tempfile.mkdtemp(prefix="evmesh-store-")
        self.addCleanup(shutil.rmtree, path, True)
        return path

    def docs_config(self, sink, data_dir):
        """The YAML example of docs/storage.md, with our sink and data directory."""
        text = fenced_block_after(read_doc("docs/storage.md"), "A subscription marked", "yaml")
        self.assertIn("http://127.0.0.1:9000/hook", text)
        self.assertIn("/var/lib/evmesh", text)
        return text.replace("http://127.0.0.1:9000/hook", sink.url).replace("/var/lib/evmesh", data_dir)

    def publish_n(self, daemon, n, prefix="e"):
        for i in range(n):
            res = self.publish_binary(b"x", daemon=daemon, id=f"{prefix}{i}", partitionkey="k")
            self.assertEqual(res.status, 202, res)

    def test_api_flag_round_trips_and_delivers(self):
        sink = self.make_sink()
        daemon = self.start_evmeshd(sets=[f"store.data_dir={self.data_dir()}"])
        created = self.subscribe(sink.url, daemon=daemon, durable=True)
        self.assertIs(created["durable"], True)
        got = daemon.request("GET", "/subscriptions/" + created["id"]).json()
        self.assertIs(got["durable"], True)
        self.publish_n(daemon, 3)
        self.assertEqual([r.ce("id") for r in sink.wait_for(3)], ["e0", "e1", "e2"])

    def test_durable_must_be_a_boolean(self):
        daemon = self.start_evmeshd()
        res = daemon.request("POST", "/subscriptions",
                             {"sink": "http://127.0.0.1:9/", "durable": "yes"})
        self.assertProblem(res, 400, "invalid-subscription", pointer="durable",
                           detail_contains="must be true or false")

    def test_restart_redelivers_what_the_sink_did_not_ack(self):
        sink = self.make_sink(default=Reply(503))  # the sink is down
        data_dir = self.data_dir()
        config = self.docs_config(sink, data_dir)
        daemon = self.start_evmeshd(config, sets=["runtime.drain_timeout=0"])
        self.publish_n(daemon, 5)
        sink.wait_for(1)
        self.assertEqual(daemon.stop(), 0)

        sink.default = Reply(200)  # back up
        with sink.cond:
            sink.requests.clear()
        self.start_evmeshd(config)
        ids = [r.ce("id") for r in sink.wait_for(5)]
        self.assertEqual(ids[:5], ["e0", "e1", "e2", "e3", "e4"])

    def test_torn_last_record_is_dropped_and_the_daemon_starts(self):
        sink = self.make_sink(default=Reply(503))
        data_dir = self.data_dir()
        config = self.docs_config(sink, data_dir)
        daemon = self.start_evmeshd(config)
        self.publish_n(daemon, 3)
        daemon.signal(9)
        daemon.wait()
        # A write cut short by a power failure: half a record at the end of the WAL.
        wals = sorted(glob.glob(os.path.join(data_dir, "events", "*.log")))
        self.assertTrue(wals, os.listdir(os.path.join(data_dir, "events")))
        with open(wals[-1], "ab") as f:
            f.write(b"\x12\x34\x56\x78\x40\x00\x01torn-record")
        sink.default = Reply(200)
        daemon = self.start_evmeshd(config)
        self.assertEqual([r.ce("id") for r in sink.wait_for(3)][-3:], ["e0", "e1", "e2"])
        daemon.wait_for_log(r"warn.*event store: .*dropping \d+ bytes")

    def test_unusable_data_dir_is_a_503_naming_it(self):
        daemon = self.start_evmeshd(sets=["store.data_dir=/proc/evmesh-store"])
        res = daemon.request("POST", "/subscriptions",
                             {"sink": "http://127.0.0.1:9/", "durable": True})
        self.assertProblem(res, 503, "store-unavailable", detail_contains="/proc/evmesh-store")
        # Transient subscriptions still work.
        self.assertEqual(daemon.request("POST", "/subscriptions",
                                        {"sink": "http://127.0.0.1:9/"}).status, 201)
