"""MQTT publishes that match a durable subscription (docs/protocols.md, docs/storage.md):
the PUBACK / PUBREC comes only after the store committed the event — kill -9 right
after it loses nothing — and the commit runs off the I/O threads, so the listener
keeps serving other clients meanwhile (the daemon runs one I/O thread here)."""
import shutil
import signal
import tempfile
import threading
import unittest

from harness import EvmeshTestCase, Reply
from mqtt_clients import MQTT_SETS, PINGREQ, Raw, ack, connect, mqtt_port, packet, publish

N = 40


class DurableIngest(EvmeshTestCase):
    start_daemon = False

    def config(self, sink_url, data_dir):
        return (f"store: {{data_dir: {data_dir}}}\n"
                "subscriptions:\n"
                "  - id: archive\n"
                f"    sink: {sink_url}\n"
                "    durable: true\n")

    def test_ack_after_commit_and_other_clients_served_meanwhile(self):
        data_dir = tempfile.mkdtemp(prefix="evmesh-mqtt-store-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        sink = self.make_sink(default=Reply(503))  # down: nothing is settled before the crash
        config = self.config(sink.url, data_dir)
        daemon = self.start_evmeshd(config, MQTT_SETS + ("runtime.threads=1",))
        port = mqtt_port(daemon)

        # Another client keeps pinging all along: it must be answered throughout.
        pinger = Raw(port)
        self.addCleanup(pinger.close)
        pinger.send(connect("pinger"))
        self.assertEqual(pinger.recv().reason, 0)
        stop, pongs, ping_errors = threading.Event(), [0], []

        def ping():
            try:
                while not stop.is_set():
                    pinger.send(PINGREQ)
                    self.assertEqual(pinger.recv(timeout=5).type, 13)
                    pongs[0] += 1
            except Exception as e:  # reported by the main thread
                ping_errors.append(e)

        t = threading.Thread(target=ping, daemon=True)
        t.start()

        pub = Raw(port)
        self.addCleanup(pub.close)
        pub.send(connect("durable-pub"))
        self.assertEqual(pub.recv().reason, 0)
        for i in range(N):  # pipelined: all sent before any ack is read
            pub.send(publish("plant/line1", f'{{"n": {i}}}', qos=1, pid=i + 1))
        pub.send(publish("plant/line1", f'{{"n": {N}}}', qos=2, pid=N + 1))
        acks = [pub.recv(timeout=10) for _ in range(N + 1)]
        self.assertEqual([(p.type, p.reason) for p in acks[:N]], [(4, 0)] * N)
        self.assertEqual([int.from_bytes(p.body[:2], "big") for p in acks[:N]], list(range(1, N + 1)))
        self.assertEqual((acks[N].type, acks[N].reason), (5, 0))
        pub.send(ack("pubrel", N + 1))
        self.assertEqual(pub.recv(timeout=10).type, 7)

        stop.set()
        t.join(10)
        self.assertEqual(ping_errors, [])
        self.assertGreater(pongs[0], 0)

        # Every ack meant committed: a crash right now loses nothing.
        daemon.signal(signal.SIGKILL)
        daemon.wait()
        sink.default = Reply(200)
        with sink.cond:
            sink.requests.clear()
        self.start_evmeshd(config, MQTT_SETS)
        got = [r.json()["n"] for r in sink.wait_for(N + 1, timeout=20)]
        self.assertEqual(got[:N + 1], list(range(N + 1)))


if __name__ == "__main__":
    unittest.main()
