"""Replay of durable subscriptions against the real daemon and a real HTTP sink: the
admin endpoint (from the oldest event, from a time), a new subscription created with
`replay` over the API and in YAML (after a restart), and bad input."""

import datetime
import shutil
import subprocess
import tempfile
import time

from harness import EvmeshTestCase, built_binary
from test_docs_examples import fenced_block_after, read_doc


def rfc3339_now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


class ReplayTest(EvmeshTestCase):
    start_daemon = False

    def setUp(self):
        super().setUp()
        self.data = tempfile.mkdtemp(prefix="evmesh-replay-")
        self.addCleanup(shutil.rmtree, self.data, True)

    def daemon_with_retention(self, config=""):
        # Retention keeps settled events in the log so that replay finds them.
        return self.start_evmeshd(config, sets=[f"store.data_dir={self.data}", "store.retention=1h"])

    def publish(self, daemon, ids):
        for i in ids:
            res = self.publish_binary(b"x", daemon=daemon, id=i, partitionkey="k")
            self.assertEqual(res.status, 202, res)

    def delivered(self, sink, n):
        return [r.ce("id") for r in sink.wait_for(n)]

    def clear(self, sink):
        with sink.cond:
            sink.requests.clear()

    def replay(self, daemon, sub, body):
        return daemon.request("POST", f"/admin/subscriptions/{sub}/replay", body)

    def test_replay_from_oldest_and_from_a_time(self):
        sink = self.make_sink()
        daemon = self.daemon_with_retention()
        sub = self.subscribe(sink.url, daemon=daemon, durable=True)["id"]
        self.publish(daemon, ["a0", "a1", "a2"])
        self.assertEqual(self.delivered(sink, 3), ["a0", "a1", "a2"])
        time.sleep(0.05)
        between = rfc3339_now()
        time.sleep(0.05)
        self.publish(daemon, ["b0", "b1"])
        self.assertEqual(self.delivered(sink, 5)[3:], ["b0", "b1"])

        self.clear(sink)
        res = self.replay(daemon, sub, {"from": "oldest"})
        self.assertEqual(res.status, 200, res)
        self.assertEqual(res.json(), {"id": sub, "from": "oldest", "offset": 1})
        self.assertEqual(self.delivered(sink, 5), ["a0", "a1", "a2", "b0", "b1"])

        self.clear(sink)
        res = self.replay(daemon, sub, {"from": between})
        self.assertEqual(res.status, 200, res)
        self.assertEqual(res.json()["offset"], 4)
        self.assertEqual(self.delivered(sink, 2), ["b0", "b1"])
        self.clear(sink)
        self.assertNoDelivery(sink)  # nothing from before the time

        # Publishing goes on normally after a replay.
        self.publish(daemon, ["c0"])
        self.assertEqual(self.delivered(sink, 1), ["c0"])

    def test_new_subscription_with_replay_oldest_gets_the_retained_history(self):
        first = self.make_sink()
        daemon = self.daemon_with_retention()
        self.subscribe(first.url, daemon=daemon, durable=True)
        self.publish(daemon, ["h0", "h1", "h2"])
        self.delivered(first, 3)

        late = self.make_sink()
        created = self.subscribe(late.url, daemon=daemon, durable=True, replay="oldest")
        self.assertEqual(created["replay"], "oldest")
        self.assertEqual(self.delivered(late, 3), ["h0", "h1", "h2"])
        # Without replay a new durable subscription starts at the end of the log.
        fresh = self.make_sink()
        self.subscribe(fresh.url, daemon=daemon, durable=True)
        self.publish(daemon, ["n0"])
        self.assertEqual(self.delivered(fresh, 1), ["n0"])

    def test_yaml_replay_after_a_restart_uses_the_stored_append_times(self):
        sink = self.make_sink()
        daemon = self.daemon_with_retention()
        self.subscribe(sink.url, daemon=daemon, durable=True)
        self.publish(daemon, ["old0", "old1"])
        self.delivered(sink, 2)
        time.sleep(0.05)
        between = rfc3339_now()
        time.sleep(0.05)
        self.publish(daemon, ["new0"])
        self.delivered(sink, 3)
        self.assertEqual(daemon.stop(), 0)

        # The docs' YAML example, with a time between the two publishes.
        text = fenced_block_after(read_doc("docs/storage.md"), "declared in YAML", "yaml")
        self.assertIn("replay: oldest", text)
        by_time = self.make_sink()
        oldest = self.make_sink()
        config = (text.replace("http://127.0.0.1:9000/audit", oldest.url)
                  .replace("http://127.0.0.1:9000/recent", by_time.url)
                  .replace("2026-01-01T00:00:00Z", between))
        self.daemon_with_retention(config)
        self.assertEqual(self.delivered(oldest, 3), ["old0", "old1", "new0"])
        self.assertEqual(self.delivered(by_time, 1), ["new0"])
        self.clear(by_time)
        self.assertNoDelivery(by_time)

    def test_bad_input_gets_a_clear_problem(self):
        sink = self.make_sink()
        daemon = self.daemon_with_retention()
        durable = self.subscribe(sink.url, daemon=daemon, durable=True)["id"]
        transient = self.subscribe(sink.url, daemon=daemon)["id"]

        self.assertProblem(self.replay(daemon, durable, {"from": "yesterday"}), 400,
                           "invalid-format", pointer="from", detail_contains="RFC 3339")
        self.assertProblem(self.replay(daemon, durable, {"from": "2026-02-30T00:00:00Z"}), 400,
                           "invalid-format", pointer="from", detail_contains="2026-02-30")
        self.assertProblem(self.replay(daemon, durable, {}), 400, "invalid-format",
                           pointer="from", detail_contains="oldest")
        self.assertProblem(self.replay(daemon, durable, {"from": "oldest", "to": 1}), 400,
                           "invalid-format", detail_contains='unknown property "to"')
        self.assertProblem(self.replay(daemon, transient, {"from": "oldest"}), 409, "conflict",
                           detail_contains="not durable")
        self.assertProblem(self.replay(daemon, "nope", {"from": "oldest"}), 404, "not-found",
                           detail_contains="'nope' does not exist")
        res = daemon.request("GET", f"/admin/subscriptions/{durable}/replay")
        self.assertEqual(res.status, 405, res)

        res = daemon.request("POST", "/subscriptions",
                             {"sink": sink.url, "durable": True, "replay": "soon"})
        self.assertProblem(res, 400, "invalid-subscription", pointer="replay",
                           detail_contains="RFC 3339")
        res = daemon.request("POST", "/subscriptions", {"sink": sink.url, "replay": "oldest"})
        self.assertProblem(res, 400, "invalid-subscription", pointer="replay",
                           detail_contains="durable")

    def test_evmeshctl_replay(self):
        sink = self.make_sink()
        daemon = self.daemon_with_retention()
        sub = self.subscribe(sink.url, daemon=daemon, durable=True)["id"]
        self.publish(daemon, ["x0", "x1"])
        self.delivered(sink, 2)
        self.clear(sink)
        ctl = built_binary("evmeshctl", "EVMESHCTL")
        run = subprocess.run([ctl, "--url", daemon.url, "replay", sub, "--from", "oldest"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(run.returncode, 0, run)
        self.assertIn("from offset 1", run.stdout)
        self.assertEqual(self.delivered(sink, 2), ["x0", "x1"])
        run = subprocess.run([ctl, "--url", daemon.url, "replay", "nope", "--from", "oldest"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(run.returncode, 2, run)
        self.assertIn("does not exist", run.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
