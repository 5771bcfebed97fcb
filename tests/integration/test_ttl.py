"""Per-event TTL (the `expirytime` extension) against the real daemon and a real HTTP
sink: an event that expires undelivered is dead-lettered with reason `expired`."""

import datetime
import shutil
import tempfile

from harness import EvmeshTestCase, Reply, wait_until


def rfc3339_from_now(seconds):
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ExpiryTest(EvmeshTestCase):
    start_daemon = False

    def setUp(self):
        super().setUp()
        self.sink = self.make_sink(default=Reply(503))  # the sink is down
        data_dir = tempfile.mkdtemp(prefix="evmesh-ttl-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        self.daemon = self.start_evmeshd(
            f"store: {{data_dir: {data_dir}}}\n"
            "subscriptions:\n"
            "  - id: orders\n"
            f"    sink: {self.sink.url}\n"
            "    durable: true\n"
            "    delivery:\n"
            "      maxattempts: 1000\n"
            "      initialbackoff: 50ms\n"
            "      maxbackoff: 100ms\n")

    def dead_letters(self):
        res = self.daemon.request("GET", "/admin/subscriptions/orders/deadletters")
        self.assertEqual(res.status, 200, res)
        return res.json()["deadletters"]

    def test_expired_events_are_dead_lettered_not_delivered(self):
        past = "2001-01-01T00:00:00Z"
        soon = rfc3339_from_now(1.0)
        res = self.publish_binary(b"x", daemon=self.daemon, id="past", expirytime=past)
        self.assertEqual(res.status, 202, res)
        res = self.publish_binary(b"x", daemon=self.daemon, id="soon", expirytime=soon)
        self.assertEqual(res.status, 202, res)

        wait_until(lambda: len(self.dead_letters()) == 2, timeout=15, what="2 dead letters")
        by_id = {d["event"]["id"]: d["event"] for d in self.dead_letters()}
        self.assertEqual(set(by_id), {"past", "soon"})
        for ev in by_id.values():
            self.assertEqual(ev["deadletterreason"], "expired")
        self.assertEqual(by_id["past"]["deadlettererror"], f"expired at {past}")
        self.assertEqual(by_id["soon"]["expirytime"], soon)
        # The past one never reached the sink; the short-lived one was tried while alive.
        ids = [r.ce("id") for r in self.sink.wait_for(1)]
        self.assertNotIn("past", ids)
        self.assertIn("soon", ids)

    def test_unexpired_event_is_delivered_with_its_expirytime(self):
        self.sink.default = Reply(200)
        later = rfc3339_from_now(3600)
        res = self.publish_binary(b"x", daemon=self.daemon, id="later", expirytime=later)
        self.assertEqual(res.status, 202, res)
        got = self.sink.wait_for(1)
        self.assertEqual(got[0].ce("expirytime"), later)
        self.assertEqual(self.dead_letters(), [])

    def test_malformed_expirytime_never_expires(self):
        self.sink.default = Reply(200)
        res = self.publish_binary(b"x", daemon=self.daemon, id="bad", expirytime="tomorrow")
        self.assertEqual(res.status, 202, res)
        self.assertEqual(self.sink.wait_for(1)[0].ce("id"), "bad")
