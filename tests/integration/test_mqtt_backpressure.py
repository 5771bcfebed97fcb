"""Slow MQTT subscribers (docs/protocols.md, "Slow subscribers"): a subscriber that
stops reading never costs a QoS 1 message while it stays connected — its queue is
bounded and the publisher is paused instead; one stuck past slow_subscriber_timeout
is disconnected so the others go on; QoS 0 to a full queue is dropped and counted.

The slow subscriber is a raw socket with a small receive buffer that simply stops
reading; the publisher is a raw socket too, so the test sees exactly when it is
paused (its PUBACKs stop coming)."""
import struct
import threading
import time
import unittest

from harness import EvmeshTestCase, Reply, binary_headers, wait_until
from mqtt_clients import MQTT_SETS, PINGREQ, Collector, Raw, ack, connect, mqtt_port, publish, subscribe

PAYLOAD = 16 * 1024  # a few hundred of these fill the kernel buffers between us and the slow client
QUEUE = 20


def body(i):
    return struct.pack("!I", i) + b"x" * (PAYLOAD - 4)


class Publisher:
    """A raw 5.0 publisher sending `n` messages from a thread; counts its acks."""

    def __init__(self, port, topic, n, qos):
        self.raw = Raw(port, timeout=60)
        self.raw.send(connect("publisher"))
        assert self.raw.recv().reason == 0
        self.acks, self.bad = 0, []
        self.n, self.qos, self.topic = n, qos, topic
        self.sent = threading.Event()
        threading.Thread(target=self._send, daemon=True).start()
        if qos:
            threading.Thread(target=self._read, daemon=True).start()

    def _send(self):
        try:
            for i in range(self.n):
                self.raw.send(publish(self.topic, body(i), qos=self.qos, pid=i % 65535 + 1))
        except OSError:
            pass
        self.sent.set()

    def _read(self):
        try:
            while self.acks < self.n:
                p = self.raw.recv(timeout=60)
                if p.type != 4 or p.reason != 0:
                    self.bad.append(p)
                self.acks += 1
        except (OSError, EOFError):
            pass

    def close(self):
        self.raw.close()


class SlowCase(EvmeshTestCase):
    timeout = "20s"

    @property
    def sets(self):
        return MQTT_SETS + (f"mqtt.max_queued_messages={QUEUE}", f"mqtt.slow_subscriber_timeout={self.timeout}")

    def setUp(self):
        super().setUp()
        self.port = mqtt_port(self.daemon)

    def slow_subscriber(self, qos, client_id="slow"):
        r = Raw(self.port, rcvbuf=4096, timeout=30)
        self.addCleanup(r.close)
        r.send(connect(client_id))
        self.assertEqual(r.recv().reason, 0)
        r.send(subscribe([("bp/#", qos)], pid=1))
        self.assertEqual(r.recv().type, 9)
        return r

    def fast_subscriber(self, qos):
        c = Collector(self.port, client_id="fast")
        self.addCleanup(c.close)
        return c.subscribe("bp/#", qos)

    def publisher(self, n, qos):
        p = Publisher(self.port, "bp/x", n, qos)
        self.addCleanup(p.close)
        return p

    def wait_stalled(self, pub, n):
        """Until the publisher's acks stop advancing for a second; returns the count."""
        last, since = -1, time.monotonic()
        deadline = since + 30
        while time.monotonic() < deadline:
            now = pub.acks
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since > 1.0:
                return now
            if now >= n:
                return now
            time.sleep(0.05)
        self.fail("the publisher's acks never settled")


class SlowSubscriberPausesThePublisher(SlowCase):
    def test_no_qos1_loss_bounded_queue_then_everything_arrives(self):
        n = 1000  # 16 MB: far more than the queue, the outbox and the kernel buffers hold
        slow = self.slow_subscriber(qos=1)
        fast = self.fast_subscriber(qos=1)
        pub = self.publisher(n, qos=1)

        stalled_at = self.wait_stalled(pub, n)
        self.assertLess(stalled_at, n, "the publisher was never paused: nothing bounds the slow queue")
        # The other subscriber got everything acknowledged so far: it goes at the
        # publisher's pace, it is not starved.
        wait_until(lambda: fast.count() >= stalled_at, what="the fast subscriber to catch up")

        # The slow client reads again: every message arrives, in order, once.
        got = []
        while len(got) < n:
            p = slow.recv(timeout=20)
            self.assertEqual(p.type, 3, p)
            topic, qos, _, pid, _, payload = p.publish_fields()
            self.assertEqual((topic, qos, len(payload)), ("bp/x", 1, PAYLOAD))
            got.append(struct.unpack("!I", payload[:4])[0])
            slow.send(ack("puback", pid))
        self.assertEqual(got, list(range(n)))
        wait_until(lambda: pub.acks == n, timeout=20, what="every PUBACK")
        self.assertEqual(pub.bad, [])
        msgs = fast.wait_for(n, timeout=20)
        self.assertEqual([struct.unpack("!I", m.payload[:4])[0] for m in msgs], list(range(n)))
        self.assertNotIn("slow subscriber", self.daemon.output())


class SlowSubscriberHoldsTheMeshDelivery(SlowCase):
    def test_events_from_http_wait_for_room_and_none_is_lost(self):
        # mesh -> MQTT: the listener subscription holds its ack while the slow queue
        # is full, so events wait in the mesh (bounded, 503 beyond) instead of being
        # dropped at the MQTT queue. 24 MB: far more than the kernel buffers hold.
        n = 1500
        slow = self.slow_subscriber(qos=1)
        for i in range(n):
            res = self.daemon.request("POST", "/", body(i),
                                      binary_headers(id=f"e{i}", content_type="application/octet-stream"))
            self.assertEqual(res.status, 202, res)
        got = []
        while len(got) < n:
            p = slow.recv(timeout=20)
            self.assertEqual(p.type, 3, p)
            topic, qos, _, pid, _, payload = p.publish_fields()
            self.assertEqual((topic, qos), ("events/com.example.test", 1))
            got.append(struct.unpack("!I", payload[:4])[0])
            slow.send(ack("puback", pid))
        self.assertEqual(got, list(range(n)))

    def slow_subscriber(self, qos, client_id="slow"):
        r = Raw(self.port, rcvbuf=4096, timeout=30)
        self.addCleanup(r.close)
        r.send(connect(client_id))
        self.assertEqual(r.recv().reason, 0)
        r.send(subscribe([("events/#", qos)], pid=1))
        self.assertEqual(r.recv().type, 9)
        return r


class StuckSubscriberIsDisconnected(SlowCase):
    timeout = "1s"

    def test_the_others_go_on_after_the_timeout(self):
        n = 600
        slow = self.slow_subscriber(qos=1)
        fast = self.fast_subscriber(qos=1)
        pub = self.publisher(n, qos=1)
        wait_until(lambda: pub.acks == n, timeout=30, what="every PUBACK once the stuck subscriber is gone")
        self.assertEqual(pub.bad, [])
        fast.wait_for(n, timeout=20)
        self.daemon.wait_for_log(r"'slow': slow subscriber: its queue of 20 messages stayed full for 1000 ms")
        # It was disconnected: what its socket still holds ends in a close, never more.
        rest = slow.expect_closed(timeout=20)
        self.assertLess(len(rest), n)
        for p in rest[:-1]:
            self.assertEqual(p.type, 3, p)
        if rest and rest[-1].type == 14:
            self.assertEqual(rest[-1].reason, 0x97)


class Qos0IsDroppedAndCounted(SlowCase):
    def test_qos0_never_pauses_the_publisher(self):
        n = 1000
        slow = self.slow_subscriber(qos=0)
        pub = self.publisher(n, qos=0)
        self.assertTrue(pub.sent.wait(20), "a QoS 0 publisher was paused by a slow subscriber")
        pub.raw.send(PINGREQ)
        self.assertEqual(pub.raw.recv(timeout=5).type, 13)
        slow.close()
        self.daemon.wait_for_log(r"'slow': \d+ QoS 0 message\(s\) were dropped while its queue was full")


class OverloadedMeshPausesThePublisher(SlowCase):
    def test_3_1_1_qos1_is_not_lost_when_a_mesh_queue_is_full(self):
        # A webhook that takes 30 ms per event behind a queue of 2: a burst of QoS 1
        # publishes overflows it. The MQTT publisher waits (the listener stops reading)
        # rather than being refused — 3.1.1 could not even be told.
        sink = self.make_sink(default=Reply(200, delay=0.03))
        res = self.daemon.request("POST", "/subscriptions",
                                  {"sink": sink.url, "delivery": {"queuecapacity": 2}})
        self.assertEqual(res.status, 201, res.body)
        pub = Collector(self.port, client_id="burst", version=4)
        self.addCleanup(pub.close)
        infos = [pub.client.publish("plant/burst", f'{{"n": {i}}}', qos=1) for i in range(30)]
        for info in infos:
            info.wait_for_publish(20)
        got = [r.json()["n"] for r in sink.wait_for(30, timeout=20)]
        self.assertEqual(got, list(range(30)))


if __name__ == "__main__":
    unittest.main()
