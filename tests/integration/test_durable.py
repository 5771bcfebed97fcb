"""Durable subscriptions against the real daemon and a real HTTP sink: the API flag,
redelivery after a restart, a torn last record, an unusable data directory."""

import glob
import os
import shutil
import subprocess
import tempfile
import time

from harness import EvmeshTestCase, Reply, built_binary, wait_until
from test_docs_examples import fenced_block_after, read_doc


def evmeshctl_path():
    return built_binary("evmeshctl", "EVMESHCTL")


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

    def test_a_publish_that_waited_for_room_is_acked_after_its_commit(self):
        # http.publish_wait with a durable subscription: the waiting publish, once it
        # fits, is answered only after the store committed it, and is delivered.
        sink = self.make_sink(Reply(200, delay=0.5))
        daemon = self.start_evmeshd(sets=[f"store.data_dir={self.data_dir()}", "http.publish_wait=5s"])
        self.subscribe(sink.url, daemon=daemon, durable=True, delivery={"queuecapacity": 1})
        self.publish_n(daemon, 1, prefix="first")
        started = time.monotonic()
        self.publish_n(daemon, 1, prefix="second")
        self.assertGreater(time.monotonic() - started, 0.2, "accepted before the queue had room")
        self.assertEqual([r.ce("id") for r in sink.wait_for(2)], ["first0", "second0"])

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
        with sink.cond:
            sink.requests.clear()
        daemon = self.start_evmeshd(config)
        self.assertEqual([r.ce("id") for r in sink.wait_for(3)][:3], ["e0", "e1", "e2"])
        daemon.wait_for_log(r"warn.*event store: .*dropping \d+ bytes")

    def test_unusable_data_dir_is_a_503_naming_it(self):
        daemon = self.start_evmeshd(sets=["store.data_dir=/proc/evmesh-store"])
        res = daemon.request("POST", "/subscriptions",
                             {"sink": "http://127.0.0.1:9/", "durable": True})
        self.assertProblem(res, 503, "store-unavailable", detail_contains="/proc/evmesh-store")
        # Transient subscriptions still work.
        self.assertEqual(daemon.request("POST", "/subscriptions",
                                        {"sink": "http://127.0.0.1:9/"}).status, 201)


class DeadLetterQueueTest(EvmeshTestCase):
    """A durable subscription without a dead-letter sink keeps its dead letters in the
    store: listed, inspected, redriven and deleted over the admin API and evmeshctl."""

    start_daemon = False

    def setUp(self):
        super().setUp()
        self.sink = self.make_sink(default=Reply(400))  # permanent failure
        data_dir = tempfile.mkdtemp(prefix="evmesh-dlq-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        self.config = (
            f"store: {{data_dir: {data_dir}}}\n"
            "subscriptions:\n"
            "  - id: orders\n"
            f"    sink: {self.sink.url}\n"
            "    durable: true\n")

    def dead_letters(self, daemon):
        res = daemon.request("GET", "/admin/subscriptions/orders/deadletters")
        self.assertEqual(res.status, 200, res)
        return res.json()["deadletters"]

    def evmeshctl(self, daemon, *args):
        proc = subprocess.run([evmeshctl_path(), "--url", daemon.url, "dlq", *args],
                              capture_output=True, text=True, timeout=30)
        return proc.returncode, proc.stdout, proc.stderr

    def test_lifecycle(self):
        daemon = self.start_evmeshd(self.config)
        for i in range(3):
            self.assertEqual(self.publish_binary(b"x", daemon=daemon, id=f"e{i}").status, 202)
        wait_until(lambda: len(self.dead_letters(daemon)) == 3, what="3 dead letters")
        listed = self.dead_letters(daemon)
        self.assertEqual([d["event"]["id"] for d in listed], ["e0", "e1", "e2"])
        self.assertEqual(listed[0]["event"]["deadletterreason"], "permanent")
        self.assertEqual(listed[0]["event"]["deadletterstatus"], 400)
        first = listed[0]["id"]

        one = daemon.request("GET", f"/admin/subscriptions/orders/deadletters/{first}")
        self.assertEqual(one.json()["event"]["id"], "e0")
        page = daemon.request("GET", "/admin/subscriptions/orders/deadletters?limit=2").json()
        self.assertEqual(len(page["deadletters"]), 2)
        self.assertEqual(page["next"], page["deadletters"][1]["id"])

        # They survive a restart.
        self.assertEqual(daemon.stop(), 0)
        daemon = self.start_evmeshd(self.config)
        self.assertEqual(len(self.dead_letters(daemon)), 3)

        # Redrive: delivered again without the dead-letter attributes, then gone.
        self.sink.default = Reply(200)
        with self.sink.cond:
            self.sink.requests.clear()
        code, out, err = self.evmeshctl(daemon, "redrive", "orders", str(first))
        self.assertEqual(code, 0, err)
        got = self.sink.wait_for(1)[0]
        self.assertEqual(got.ce("id"), "e0")
        self.assertIsNone(got.ce("deadletterreason"))
        wait_until(lambda: len(self.dead_letters(daemon)) == 2, what="the redriven one to leave")

        code, out, err = self.evmeshctl(daemon, "list", "orders")
        self.assertEqual(code, 0, err)
        self.assertEqual(len(out.splitlines()), 2, out)
        self.assertIn("permanent", out)
        second = self.dead_letters(daemon)[0]["id"]
        code, out, err = self.evmeshctl(daemon, "delete", "orders", str(second))
        self.assertEqual(code, 0, err)
        self.assertEqual([d["event"]["id"] for d in self.dead_letters(daemon)], ["e2"])

    def test_errors_name_what_is_wrong(self):
        daemon = self.start_evmeshd(self.config)
        base = "/admin/subscriptions/orders/deadletters"
        self.assertProblem(daemon.request("GET", base + "/999"), 404, "not-found",
                           detail_contains="no dead letter 999")
        self.assertProblem(daemon.request("GET", base + "/x"), 400, detail_contains="decimal integer")
        self.assertProblem(daemon.request("GET", base + "?limit=0"), 400, pointer="limit")
        self.assertProblem(daemon.request("DELETE", base + "/999"), 404)
        self.assertProblem(daemon.request("POST", base + "/999/redrive"), 404)
        self.assertEqual(daemon.request("PUT", base + "/1").status, 405)
        self.assertProblem(daemon.request("GET", "/admin/subscriptions/nope/deadletters"), 404,
                           detail_contains="'nope' does not exist")
        transient = self.subscribe("http://127.0.0.1:9/", daemon=daemon)
        self.assertProblem(
            daemon.request("GET", f"/admin/subscriptions/{transient['id']}/deadletters"), 409,
            detail_contains="is not durable")
        code, _, err = self.evmeshctl(daemon, "show", "orders", "999")
        self.assertEqual(code, 2)
        self.assertIn("no dead letter 999", err)


class SinkDownTest(EvmeshTestCase):
    """A sink down for longer than its retry schedule loses nothing: the events wait in
    the subscription's dead-letter queue (retries exhausted) or in its backlog (retries
    that outlast the outage), as the delivery settings say."""

    start_daemon = False

    def config(self, sink, delivery):
        data_dir = tempfile.mkdtemp(prefix="evmesh-down-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        return (f"store: {{data_dir: {data_dir}}}\n"
                "subscriptions:\n"
                "  - id: orders\n"
                f"    sink: {sink.url}\n"
                "    durable: true\n"
                f"    delivery: {delivery}\n")

    def publish_ids(self, daemon, ids):
        for i in ids:
            self.assertEqual(self.publish_binary(b"x", daemon=daemon, id=i).status, 202)

    def test_exhausted_retries_wait_in_the_dead_letter_queue(self):
        sink = self.make_sink(default=Reply(503))
        daemon = self.start_evmeshd(self.config(
            sink, "{maxattempts: 3, initialbackoff: 10ms, maxbackoff: 20ms}"))
        self.publish_ids(daemon, ["a", "b", "c"])
        base = "/admin/subscriptions/orders/deadletters"
        letters = wait_until(lambda: (d := daemon.request("GET", base).json()["deadletters"])
                             and len(d) == 3 and d, what="3 dead letters")
        self.assertEqual([d["event"]["id"] for d in letters], ["a", "b", "c"])
        self.assertEqual({d["event"]["deadletterreason"] for d in letters}, {"maxattempts"})
        self.assertEqual({d["event"]["deadletterattempts"] for d in letters}, {3})
        self.assertEqual(sink.count(), 9)  # 3 events x 3 attempts, then no more

        sink.default = Reply(200)  # back up: redrive them all
        with sink.cond:
            sink.requests.clear()
        for d in letters:
            self.assertEqual(daemon.request("POST", f"{base}/{d['id']}/redrive").status, 202)
        self.assertEqual(sorted(r.ce("id") for r in sink.wait_for(3)), ["a", "b", "c"])
        wait_until(lambda: daemon.request("GET", base).json()["deadletters"] == [],
                   what="an empty dead-letter queue")

    def test_retries_that_outlast_the_outage_keep_the_backlog_in_order(self):
        sink = self.make_sink(default=Reply(503))
        daemon = self.start_evmeshd(self.config(
            sink, "{maxattempts: 4294967295, maxage: 1h, initialbackoff: 10ms, maxbackoff: 50ms}"))
        self.publish_ids(daemon, [f"e{i}" for i in range(5)])
        sink.wait_for(15)  # many more attempts than the default schedule's first steps
        with sink.cond:
            sink.default = Reply(200)
            sink.requests.clear()
        got = [r.ce("id") for r in sink.wait_for(5)]
        self.assertEqual(got[:5], ["e0", "e1", "e2", "e3", "e4"])
        self.assertEqual(daemon.request("GET", "/admin/subscriptions/orders/deadletters")
                         .json()["deadletters"], [])
