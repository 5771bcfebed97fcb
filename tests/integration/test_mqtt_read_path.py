"""The MQTT listener's read path (src/adapters/mqtt/connection.cpp): an idle plain-TCP
connection holds no read buffer; bytes are read into a per-thread scratch buffer and
only an incomplete packet is kept. Whatever way a client's bytes are cut up — one at a
time, a packet larger than the scratch buffer in pieces after an idle spell, a burst
of many packets in one write — every packet arrives whole and in order, and idle
connections stay cheap."""
import time
import unittest

from harness import EvmeshTestCase
from mqtt_clients import MQTT_SETS, PINGREQ, Raw, connect, mqtt_port, publish, subscribe

SCRATCH = 64 * 1024  # the listener's per-thread read buffer


class ReadPath(EvmeshTestCase):
    sets = MQTT_SETS

    def setUp(self):
        super().setUp()
        self.port = mqtt_port(self.daemon)

    def raw(self, client_id, keepalive=60):
        r = Raw(self.port, timeout=10.0)
        self.addCleanup(r.close)
        r.send(connect(client_id, keepalive=keepalive))
        ack = r.recv()
        self.assertEqual((ack.type, ack.reason), (2, 0), ack)
        return r

    def subscriber(self, filter_):
        sub = self.raw("sub-" + filter_.strip("/#"))
        sub.send(subscribe([(filter_, 0)], pid=1))
        suback = sub.recv()
        self.assertEqual((suback.type, suback.body[-1:]), (9, b"\x00"), suback)
        return sub

    def received(self, sub, n):
        out = []
        for _ in range(n):
            p = sub.recv(timeout=10.0)
            self.assertEqual(p.type, 3, p)
            topic, _, _, _, _, payload = p.publish_fields()
            out.append((topic, payload))
        return out

    def test_a_packet_larger_than_the_read_buffer_arrives_whole_after_an_idle_spell(self):
        sub = self.subscriber("big/#")
        pub = self.raw("pub-big")
        time.sleep(0.3)  # idle: the connection holds no read buffer now
        payload = bytes(range(256)) * (3 * SCRATCH // 256 + 7)  # ~3 scratch buffers
        data = publish("big/one", payload)
        # The fixed header alone, then the rest in uneven pieces with pauses.
        pieces = [data[:1], data[1:3], data[3:1000], data[1000:SCRATCH + 17], data[SCRATCH + 17:]]
        for piece in pieces:
            pub.send(piece)
            time.sleep(0.05)
        self.assertEqual(self.received(sub, 1), [("big/one", payload)])
        # The large buffer is given back; small packets go on arriving whole.
        pub.send(publish("big/after", b"small"))
        self.assertEqual(self.received(sub, 1), [("big/after", b"small")])

    def test_a_packet_sent_one_byte_at_a_time_arrives_whole(self):
        sub = self.subscriber("drip/#")
        pub = self.raw("pub-drip")
        data = publish("drip/x", b"one byte at a time")
        for i in range(len(data)):
            pub.send(data[i:i + 1])
            time.sleep(0.005)
        self.assertEqual(self.received(sub, 1), [("drip/x", b"one byte at a time")])

    def test_a_burst_larger_than_the_read_buffer_arrives_in_order(self):
        sub = self.subscriber("burst/#")
        pub = self.raw("pub-burst")
        # ~190 KB in one write: three scratch buffers, packets cut at their ends (fewer
        # than mqtt.max_queued_messages: a full queue would drop QoS 0 by design).
        n = 900
        pub.send(b"".join(publish("burst/t", b"%06d" % i + b"." * 200) for i in range(n)))
        got = self.received(sub, n)
        self.assertEqual([p[:6] for _, p in got], [b"%06d" % i for i in range(n)])

    def test_keep_alive_deadlines_move_on_with_traffic_and_expire_without(self):
        # Keep-alive deadlines sit on one wheel per server (keepalive_wheel.h): a
        # client that pings within its keep-alive stays past several periods, one
        # that falls silent is closed with 0x8D within 1.5 x keep-alive plus a tick.
        lively, silent = self.raw("lively", keepalive=1), self.raw("silent", keepalive=1)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3.5:
            lively.send(PINGREQ)
            self.assertEqual(lively.recv().type, 13)
            time.sleep(0.5)
        got = silent.expect_closed(timeout=1.0)
        self.assertEqual([(p.type, p.reason) for p in got], [(14, 0x8D)])
        lively.send(PINGREQ)
        self.assertEqual(lively.recv().type, 13)

    def test_idle_connections_cost_little_memory(self):
        def rss_kb():
            with open(f"/proc/{self.daemon.proc.pid}/status") as f:
                return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

        self.raw("warm-up")
        before = rss_kb()
        conns = [self.raw(f"idle-{i}") for i in range(1000)]
        time.sleep(0.3)
        per_connection = (rss_kb() - before) / len(conns)
        # About 2.4 KiB in a Release build (docs/benchmarks.md); it was 5.5 KiB with
        # a read buffer and an empty queue per connection.
        self.assertLess(per_connection, 4.0, f"{per_connection:.2f} KiB per idle connection")


if __name__ == "__main__":
    unittest.main()
