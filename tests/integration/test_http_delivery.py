"""Delivery behaviour seen through HTTP: retries, Retry-After, dead letters, and the
503 a publisher gets when a subscription's queue is full."""

import json
import signal
import threading
import time
import unittest

from harness import EvmeshTestCase, Reply, event, wait_until

FAST_RETRY = {"initialbackoff": "20ms", "maxbackoff": "100ms"}


class Retries(EvmeshTestCase):
    def test_retries_until_the_sink_accepts(self):
        sink = self.make_sink()
        sink.replies(Reply(503), Reply(500), Reply(200))
        self.subscribe(sink.url, delivery={**FAST_RETRY, "maxattempts": 5})
        self.assertEqual(self.publish_binary(b"again", id="r-1", content_type="text/plain").status, 202)
        got = sink.wait_for(3)
        self.assertEqual([r.ce("id") for r in got], ["r-1"] * 3)
        self.assertTrue(all(r.body == b"again" for r in got))
        time.sleep(0.3)
        self.assertEqual(sink.count(), 3)  # delivered on the third attempt, no more

    def test_retry_after_is_honoured(self):
        sink = self.make_sink()
        sink.replies(Reply(429, headers={"Retry-After": "1"}), Reply(200))
        self.subscribe(sink.url, delivery={**FAST_RETRY, "maxattempts": 3})
        self.assertEqual(self.publish_binary(b"", id="ra").status, 202)
        first, second = sink.wait_for(2, timeout=10)
        self.assertGreaterEqual(second.when - first.when, 0.9)

    def test_in_order_delivery_waits_for_the_head_of_line(self):
        sink = self.make_sink()
        sink.replies(Reply(503), Reply(200))
        self.subscribe(sink.url, delivery={**FAST_RETRY, "maxattempts": 5})
        self.assertEqual(self.publish_batch([event(id="a"), event(id="b")]).status, 202)
        self.assertEqual([r.ce("id") for r in sink.wait_for(3)], ["a", "a", "b"])


class DeadLetters(EvmeshTestCase):
    def test_exhausted_attempts_go_to_dead_letter_sink(self):
        sink, dlq = self.make_sink(Reply(500)), self.make_sink()
        sub = self.subscribe(sink.url, delivery={**FAST_RETRY, "maxattempts": 3,
                                                 "deadlettersink": dlq.url})
        res = self.publish_binary(b"\x00payload", id="d-1", content_type="application/octet-stream",
                                  subject="s")
        self.assertEqual(res.status, 202)
        dead = dlq.wait_for(1)[0]
        self.assertEqual(sink.count(), 3)
        self.assertEqual(dead.ce("id"), "d-1")
        self.assertEqual(dead.ce("subject"), "s")
        self.assertEqual(dead.body, b"\x00payload")
        self.assertEqual(dead.ce("deadletterreason"), "maxattempts")
        self.assertEqual(dead.ce("deadletterstatus"), "500")
        self.assertEqual(dead.ce("deadletterattempts"), "3")
        self.assertEqual(dead.ce("deadlettersub"), sub["id"])
        self.assertTrue(dead.ce("deadlettererror"))

    def test_permanent_failure_dead_letters_at_once_in_structured_mode(self):
        sink, dlq = self.make_sink(Reply(404)), self.make_sink()
        sub = self.subscribe(sink.url, delivery={**FAST_RETRY, "maxattempts": 5, "mode": "structured",
                                                 "deadlettersink": dlq.url})
        self.assertEqual(self.publish_structured(event(id="p-1", data={"k": 1})).status, 202)
        dead = dlq.wait_for(1)[0]
        self.assertEqual(sink.count(), 1)
        body = dead.json()
        self.assertEqual(body["id"], "p-1")
        self.assertEqual(body["data"], {"k": 1})
        self.assertEqual(body["deadletterreason"], "permanent")
        self.assertEqual(str(body["deadletterstatus"]), "404")
        self.assertEqual(str(body["deadletterattempts"]), "1")
        self.assertEqual(body["deadlettersub"], sub["id"])

    def test_unreachable_sink_dead_letters_with_status_0(self):
        dlq = self.make_sink()
        closed = self.make_sink()
        url = closed.url
        closed.close()  # nothing listens there any more
        self.subscribe(url, delivery={**FAST_RETRY, "maxattempts": 2, "timeout": "2s",
                                      "deadlettersink": dlq.url})
        self.assertEqual(self.publish_binary(b"", id="u-1").status, 202)
        dead = dlq.wait_for(1)[0]
        self.assertEqual(dead.ce("deadletterreason"), "maxattempts")
        self.assertEqual(dead.ce("deadletterstatus"), "0")


class Backpressure(EvmeshTestCase):
    sets = ("http.publish_wait=0",)  # a full queue answers at once

    def test_full_queue_answers_503_with_retry_after(self):
        slow, fast = self.make_sink(Reply(200, delay=1.5)), self.make_sink()
        self.subscribe(slow.url, filters=[{"exact": {"type": "slow"}}],
                       delivery={"queuecapacity": 1, "concurrency": 1, "timeout": "10s"})
        self.subscribe(fast.url)
        statuses = []
        refused = None
        for i in range(4):
            started = time.monotonic()
            res = self.publish_binary(b"", id=f"q-{i}", type="slow")
            statuses.append(res.status)
            if res.status == 503:
                refused = res
                break
        self.assertIsNotNone(refused, statuses)
        self.assertLess(time.monotonic() - started, 0.5, "http.publish_wait=0 must not wait")
        self.assertProblem(refused, 503, "overloaded")
        self.assertEqual(refused.headers.get("retry-after"), "1")
        accepted = statuses.count(202)
        # All-or-nothing: the refused event reached neither subscription.
        time.sleep(0.2)
        self.assertNotIn(f"q-{len(statuses) - 1}", [r.ce("id") for r in fast.requests])
        # A slow subscriber does not block events it does not match.
        self.assertEqual(self.publish_binary(b"", id="other", type="fast").status, 202)
        self.assertIn("other", [r.ce("id") for r in fast.wait_for(accepted + 1)])
        # Once the slow sink catches up, publishing works again.
        wait_until(lambda: self.publish_binary(b"", id="later", type="slow").status == 202,
                   timeout=10, interval=0.2, what="the queue to drain")

    def test_full_queue_refuses_a_whole_batch(self):
        slow = self.make_sink(Reply(200, delay=1.0))
        self.subscribe(slow.url, delivery={"queuecapacity": 3, "concurrency": 1})
        self.assertEqual(self.publish_binary(b"", id="first").status, 202)  # takes 1 of 3 places
        res = self.publish_batch([event(id=f"b-{i}") for i in range(3)])
        self.assertProblem(res, 503, "overloaded")
        # Nothing of the batch went anywhere: only "first" is delivered.
        self.assertEqual([r.ce("id") for r in slow.wait_for(1)], ["first"])
        time.sleep(0.3)
        self.assertEqual(slow.count(), 1, slow.requests)


class PublishWait(EvmeshTestCase):
    """http.publish_wait: a publish that finds a queue full waits for room first."""

    start_daemon = False

    def fill_queue(self, delay, *sets):
        """A daemon with `sets` and a subscription with room for one event, taken by
        an event its sink holds for `delay` seconds."""
        self.daemon = self.start_evmeshd("", sets)
        sink = self.make_sink(Reply(200, delay=delay))
        self.subscribe(sink.url, delivery={"queuecapacity": 1, "timeout": "30s"})
        # Queued or in flight, it holds the queue's one slot until the sink answers.
        self.assertEqual(self.publish_binary(b"", id="first").status, 202)
        return sink

    def test_a_publish_waits_for_room_and_is_accepted(self):
        sink = self.fill_queue(0.6, "http.publish_wait=5s")
        started = time.monotonic()
        res = self.publish_binary(b"", id="second")
        waited = time.monotonic() - started
        self.assertEqual(res.status, 202, res)
        self.assertGreater(waited, 0.3, "accepted before the held event freed its slot")
        self.assertEqual([r.ce("id") for r in sink.wait_for(2)], ["first", "second"])

    def test_the_wait_ends_in_503_naming_the_setting(self):
        sink = self.fill_queue(2, "http.publish_wait=300ms")
        started = time.monotonic()
        res = self.publish_binary(b"", id="second")
        waited = time.monotonic() - started
        self.assertProblem(res, 503, "overloaded", detail_contains="(waited http.publish_wait = 300 ms for room)")
        self.assertEqual(res.headers.get("retry-after"), "1")
        self.assertGreaterEqual(waited, 0.3)
        self.assertLess(waited, 3.0)
        # Refused means not enqueued: once "first" is answered, nothing follows it.
        self.assertEqual([r.ce("id") for r in sink.wait_for(1)], ["first"])
        time.sleep(0.3)
        self.assertEqual(sink.count(), 1, sink.requests)

    def test_a_batch_larger_than_the_queue_is_refused_at_once_with_413(self):
        sink = self.fill_queue(0.5, "http.publish_wait=5s")
        started = time.monotonic()
        res = self.publish_batch([event(id=f"b-{i}") for i in range(2)])  # the queue holds 1
        self.assertLess(time.monotonic() - started, 1.0, "waited for room that can never come")
        self.assertProblem(res, 413, "too-large", detail_contains=(
            "the batch needs 2 places in the delivery queue of subscription"))
        self.assertIn("which holds 1 (delivery.queuecapacity): publish smaller batches", res.json()["detail"])
        self.assertEqual([r.ce("id") for r in sink.wait_for(1)], ["first"])

    def test_shutdown_ends_a_wait_with_503(self):
        self.fill_queue(30, "http.publish_wait=10s", "runtime.drain_timeout=500ms")
        result = {}
        waiter = threading.Thread(target=lambda: result.update(res=self.publish_binary(b"", id="second")))
        waiter.start()
        time.sleep(0.3)  # the publish is waiting now
        self.daemon.signal(signal.SIGTERM)
        waiter.join(10)
        self.assertFalse(waiter.is_alive(), "the waiting publish was not answered")
        self.assertProblem(result["res"], 503, "shutting-down")


class Pipelining(EvmeshTestCase):
    """webhook.pipeline_depth > 1: in-order deliveries pipelined on one connection."""

    sets = ("webhook.pipeline_depth=16",)

    def test_pipelined_events_arrive_in_order(self):
        sink = self.make_sink()
        self.subscribe(sink.url)
        ids = [f"p-{i}" for i in range(40)]
        self.assertEqual(self.publish_batch([event(id=i) for i in ids[:20]]).status, 202)
        for i in ids[20:]:
            self.assertEqual(self.publish_binary(b"", id=i).status, 202)
        self.assertEqual([r.ce("id") for r in sink.wait_for(40)], ids)

    def test_failure_mid_window_is_retried_in_order(self):
        sink = self.make_sink()
        sink.replies(Reply(200), Reply(200), Reply(503))  # the third request fails once
        self.subscribe(sink.url, delivery={**FAST_RETRY, "maxattempts": 5})
        ids = [f"e{i}" for i in range(10)]
        self.assertEqual(self.publish_batch([event(id=i) for i in ids]).status, 202)

        def retried_tail():
            got = [r.ce("id") for r in sink.requests]
            second = [k for k, i in enumerate(got) if i == "e2"][1:2]
            return got, second and got[second[0]:] == ids[2:]

        wait_until(lambda: retried_tail()[1], timeout=10, what="e2..e9 again after e2's retry")
        got, _ = retried_tail()
        self.assertEqual(got[:3], ["e0", "e1", "e2"])
        # Between the failure and the retry only followers of e2 arrived, in order.
        between = got[3:got.index("e2", 3)]
        self.assertEqual(between, sorted(between, key=lambda i: int(i[1:])))
        self.assertTrue(all(int(i[1:]) > 2 for i in between), got)
        time.sleep(0.3)
        self.assertEqual(len(sink.requests), len(got))  # nothing more after that


if __name__ == "__main__":
    unittest.main()
