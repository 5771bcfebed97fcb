"""MQTT bridges (docs/protocols.md, "Bridges"): evmeshd against a real mosquitto that
the test starts on a free loopback port (persistence on, in a temp dir) and stops by
PID. Inbound: mosquitto_pub -> mosquitto -> bridge -> webhook. Outbound: HTTP publish
-> subscription (protocol MQTT) -> bridge -> mosquitto -> subscriber. Restarts of
mosquitto mid-stream in both directions lose nothing (QoS 1 end to end); duplicates
are allowed (at least once) and reported."""

import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import paho.mqtt.client as paho

from harness import Daemon, EvmeshTestCase, Reply, terminate, wait_until
from test_docs_examples import fenced_block_after

MOSQUITTO = "/usr/sbin/mosquitto"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """A mosquitto on 127.0.0.1:port with persistence in a temp dir; restartable on
    the same port, so clients reconnect to the same address."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="evmesh-mosquitto-")
        self.port = free_port()
        self.conf = os.path.join(self.tmp.name, "mosquitto.conf")
        self.log = os.path.join(self.tmp.name, "mosquitto.log")
        with open(self.conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\n"
                    "allow_anonymous true\n"
                    "persistence true\n"
                    f"persistence_location {self.tmp.name}/\n"
                    "max_queued_messages 100000\n"
                    f"log_dest file {self.log}\n"
                    "log_type error\nlog_type warning\nlog_type notice\n")
            if os.geteuid() == 0:
                # Run as root, mosquitto drops to user "mosquitto", which could not write
                # its persistence file into our temp dir.
                f.write("user root\n")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def accepting():
            if self.proc.poll() is not None:
                raise AssertionError(f"mosquitto exited with {self.proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                return False

        wait_until(accepting, 10, what="mosquitto to accept connections")
        return self

    def stop(self):
        """SIGTERM: mosquitto writes its persistence file and exits."""
        terminate(self.proc)
        self.proc = None

    def close(self):
        self.stop()
        self.tmp.cleanup()

    @property
    def url(self):
        return f"tcp://127.0.0.1:{self.port}"


def mosquitto_pub(port, topic, payload, version="mqttv311", props=(), timeout=5):
    """One QoS 1 publish; True once mosquitto acknowledged it."""
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-V", version,
            "-t", topic, "-m", payload]
    for p in props:
        args += ["-D", "publish"] + list(p)
    try:
        return subprocess.run(args, capture_output=True, timeout=timeout).returncode == 0
    except subprocess.TimeoutExpired:
        return False


class Subscriber:
    """A persistent-session paho-mqtt subscriber at QoS 1 that reconnects by itself
    (clean_session False: mosquitto queues for it while it is away)."""

    def __init__(self, port, topic, client_id):
        self.messages = []
        self.cond = threading.Condition()
        self.subscribed = threading.Event()
        self.client = paho.Client(client_id=client_id, clean_session=False)
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.on_connect = lambda c, u, f, rc: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise AssertionError("the subscriber did not subscribe")

    def _on_message(self, client, userdata, msg):
        with self.cond:
            self.messages.append(msg)
            self.cond.notify_all()

    def wait_for(self, n, timeout=20.0):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.messages) >= n, timeout):
                raise AssertionError(f"got {len(self.messages)} MQTT message(s), expected {n}")
            return list(self.messages)

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def bridge_config(broker, version=4, subscribe=("devices/+/events",), extra=""):
    subs = "".join(f"\n      - \"{s}\"" for s in subscribe) or " []"
    return (f"mqtt_bridges:\n"
            f"  ext:\n"
            f"    url: {broker.url}\n"
            f"    protocol_version: {version}\n"
            f"    initial_backoff: 50ms\n"
            f"    max_backoff: 500ms\n"
            f"    subscribe:{subs}\n"
            f"    types:\n"
            f"      - {{filter: \"devices/+/events\", type: com.example.device.event}}\n"
            f"{extra}")


class BridgeTestCase(EvmeshTestCase):
    start_daemon = False

    def start_broker(self):
        broker = Mosquitto().start()
        self.addCleanup(broker.close)
        return broker

    def start_bridged(self, broker, **kw):
        d = self.start_evmeshd(bridge_config(broker, **kw))
        d.wait_for_log(r"bridge ext/out: connected")
        if kw.get("subscribe", True):
            d.wait_for_log(r"bridge ext/in: connected")
        return d

    def subscribe_mqtt(self, d, topic, **delivery):
        body = {"sink": f"mqtt://ext/{topic}", "protocol": "MQTT",
                "delivery": dict({"initialbackoff": "50ms", "maxbackoff": "500ms",
                                  "maxattempts": 1000}, **delivery)}
        res = d.request("POST", "/subscriptions", body)
        self.assertEqual(res.status, 201, res)
        return res.json()

    def make_subscriber(self, broker, topic, client_id="it-sub"):
        s = Subscriber(broker.port, topic, client_id)
        self.addCleanup(s.close)
        return s


class InboundTest(BridgeTestCase):
    def test_plain_message_becomes_an_event(self):
        broker = self.start_broker()
        d = self.start_bridged(broker)
        sink = self.make_sink()
        self.subscribe(sink.url, daemon=d)
        self.assertTrue(mosquitto_pub(broker.port, "devices/42/events", '{"t": 21.5}'))
        req = sink.wait_for(1)[0]
        self.assertEqual(req.ce("type"), "com.example.device.event")
        self.assertEqual(req.ce("source"), "/mqtt-bridge/ext")
        self.assertEqual(req.ce("mqtttopic"), "devices/42/events")
        self.assertEqual(req.json(), {"t": 21.5})

    def test_structured_cloudevent_keeps_its_attributes(self):
        broker = self.start_broker()
        d = self.start_bridged(broker)
        sink = self.make_sink()
        self.subscribe(sink.url, daemon=d)
        ev = {"specversion": "1.0", "id": "e-1", "source": "/plant/7", "type": "com.example.alarm",
              "datacontenttype": "application/json", "data": {"level": 3}}
        self.assertTrue(mosquitto_pub(broker.port, "devices/7/events", json.dumps(ev)))
        req = sink.wait_for(1)[0]
        self.assertEqual((req.ce("id"), req.ce("source"), req.ce("type")),
                         ("e-1", "/plant/7", "com.example.alarm"))
        self.assertEqual(req.json(), {"level": 3})

    def test_mqtt5_binary_mode_user_properties(self):
        broker = self.start_broker()
        d = self.start_bridged(broker, version=5)
        sink = self.make_sink()
        self.subscribe(sink.url, daemon=d)
        props = [("user-property", "specversion", "1.0"), ("user-property", "id", "b-1"),
                 ("user-property", "source", "/dev/9"), ("user-property", "type", "com.example.v5"),
                 ("content-type", "text/plain")]
        self.assertTrue(mosquitto_pub(broker.port, "devices/9/events", "hello", "mqttv5", props))
        req = sink.wait_for(1)[0]
        self.assertEqual((req.ce("id"), req.ce("source"), req.ce("type")),
                         ("b-1", "/dev/9", "com.example.v5"))
        self.assertEqual(req.body, b"hello")
        self.assertTrue(req.headers["content-type"].startswith("text/plain"), req.headers)

    def test_invalid_event_is_dropped_with_a_reason(self):
        broker = self.start_broker()
        d = self.start_bridged(broker)
        sink = self.make_sink()
        self.subscribe(sink.url, daemon=d)
        bad = {"specversion": "1.0", "id": "", "source": "/x", "type": "t"}
        self.assertTrue(mosquitto_pub(broker.port, "devices/1/events", json.dumps(bad)))
        d.wait_for_log(r"bridge ext/in: message on 'devices/1/events' dropped: not a valid event: "
                       r"id")
        # The bridge goes on: the next message arrives.
        self.assertTrue(mosquitto_pub(broker.port, "devices/1/events", "{}"))
        self.assertEqual(sink.wait_for(1)[0].ce("mqtttopic"), "devices/1/events")

    def test_broker_restart_loses_nothing(self):
        broker = self.start_broker()
        d = self.start_bridged(broker)
        sink = self.make_sink()
        self.subscribe(sink.url, daemon=d)
        total, restart_after = 150, 50
        sent = []

        def publish_all():
            for i in range(total):
                if i == restart_after:
                    restarted.wait(30)
                while not mosquitto_pub(broker.port, "devices/1/events", json.dumps({"seq": i})):
                    time.sleep(0.05)  # the broker is down: try again
                sent.append(i)

        restarted = threading.Event()
        publisher = threading.Thread(target=publish_all, daemon=True)
        publisher.start()
        wait_until(lambda: len(sent) >= restart_after, 30, what="the first messages")
        # Published and acknowledged, maybe not yet forwarded: mosquitto keeps them in
        # the bridge's session across the restart.
        broker.stop()
        time.sleep(0.5)
        broker.start()
        restarted.set()
        publisher.join(60)
        self.assertEqual(len(sent), total)
        d.wait_for_log(r"bridge ext/in: connection to .* lost")
        requests = sink.wait_for(total, timeout=30)
        seqs = [r.json()["seq"] for r in requests]
        self.assertEqual(sorted(set(seqs)), list(range(total)))
        print(f"\ninbound across a restart: {total} sent, {len(seqs)} received, "
              f"{len(seqs) - len(set(seqs))} duplicate(s)")


    def test_oversized_message_is_dropped_with_a_reason(self):
        broker = self.start_broker()
        d = self.start_bridged(broker, extra="    max_message_bytes: 1KiB\n")
        sink = self.make_sink()
        self.subscribe(sink.url, daemon=d)
        self.assertTrue(mosquitto_pub(broker.port, "devices/1/events", "x" * 1025))
        d.wait_for_log(r"bridge ext/in: message on 'devices/1/events' dropped: 1025 bytes exceed "
                       r"max_message_bytes \(1024\)")
        self.assertTrue(mosquitto_pub(broker.port, "devices/1/events", "y" * 1024))
        self.assertEqual(sink.wait_for(1)[0].body, b"y" * 1024)

    def test_overloaded_mesh_makes_the_bridge_wait_not_drop(self):
        broker = self.start_broker()
        d = self.start_bridged(broker)
        sink = self.make_sink(Reply(200, delay=0.05))
        self.subscribe(sink.url, daemon=d, delivery={"queuecapacity": 1})
        total = 20
        args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1",
                "-t", "devices/1/events", "-l"]
        lines = "".join(json.dumps({"seq": i}) + "\n" for i in range(total))
        subprocess.run(args, input=lines.encode(), check=True, timeout=20)
        seqs = [r.json()["seq"] for r in sink.wait_for(total, timeout=30)]
        self.assertEqual(seqs, list(range(total)))  # every one, in order
        d.wait_for_log(r"bridge ext/in: the mesh is overloaded")

    def test_messages_published_while_evmeshd_is_down_arrive_after_its_restart(self):
        broker = self.start_broker()
        sink = self.make_sink()
        config = bridge_config(broker) + (
            "subscriptions:\n"
            f"  - {{id: all, sink: \"{sink.url}\"}}\n")
        d = self.start_evmeshd(config)
        d.wait_for_log(r"bridge ext/in: connected")
        self.assertEqual(d.stop(), 0)
        self.assertRegex(d.output(), r"bridge ext/in: disconnected(.|\n)*"
                                     r"bridge ext/in: ingested 0 event\(s\), dropped 0 invalid, lost 0"
                                     r"(.|\n)*bridge ext/out: disconnected")
        for i in range(10):
            self.assertTrue(mosquitto_pub(broker.port, "devices/1/events", json.dumps({"seq": i})))
        self.start_evmeshd(config)
        seqs = [r.json()["seq"] for r in sink.wait_for(10, timeout=20)]
        self.assertEqual(seqs, list(range(10)))


class OutboundTest(BridgeTestCase):
    def test_routed_event_is_published_structured_on_mqtt311(self):
        broker = self.start_broker()
        d = self.start_bridged(broker, subscribe=())
        sub = self.make_subscriber(broker, "out/#")
        self.subscribe_mqtt(d, "out/{type}")
        res = self.publish_binary(b'{"n": 1}', daemon=d, id="o-1", type="com.example.created",
                                  content_type="application/json")
        self.assertEqual(res.status, 202, res)
        msg = sub.wait_for(1)[0]
        self.assertEqual(msg.topic, "out/com.example.created")
        self.assertEqual(msg.qos, 1)
        ev = json.loads(msg.payload)
        self.assertEqual((ev["id"], ev["type"], ev["data"]), ("o-1", "com.example.created", {"n": 1}))

    def test_mqtt5_binary_mode_puts_attributes_in_user_properties(self):
        broker = self.start_broker()
        d = self.start_bridged(broker, version=5, subscribe=())
        received = []
        got = threading.Event()
        c = paho.Client(client_id="it-v5", protocol=paho.MQTTv5)
        c.on_message = lambda cl, u, m: (received.append(m), got.set())
        c.connect("127.0.0.1", broker.port)
        c.subscribe("v5/#", qos=1)
        c.loop_start()
        self.addCleanup(lambda: (c.loop_stop(), c.disconnect()))
        time.sleep(0.3)
        self.subscribe_mqtt(d, "v5/out")
        self.publish_binary(b"raw", daemon=d, id="v-1", content_type="text/plain")
        self.assertTrue(got.wait(10))
        m = received[0]
        props = dict(m.properties.UserProperty)
        self.assertEqual((props["id"], props["specversion"]), ("v-1", "1.0"))
        self.assertEqual(m.properties.ContentType, "text/plain")
        self.assertEqual(m.payload, b"raw")

    def test_bad_sinks_are_refused(self):
        broker = self.start_broker()
        d = self.start_bridged(broker, subscribe=())
        cases = [
            ("mqtt://nope/t", "sink: no MQTT bridge named 'nope' (configured: ext)"),
            ("mqtt://ext/a/+/b", "sink: a topic name may not contain the wildcards + and # or NUL"),
            ("mqtt://ext/a/{Type}", "sink: {Type} does not name an attribute"),
            ("mqtt://ext/", "the topic is missing"),
            ("http://127.0.0.1:1/x", "sink: an MQTT sink must be \"mqtt://BRIDGE/TOPIC\""),
        ]
        for uri, detail in cases:
            res = d.request("POST", "/subscriptions", {"sink": uri, "protocol": "MQTT"})
            self.assertProblem(res, 400, pointer="sink")
            self.assertIn(detail, res.json()["detail"], uri)

    def test_missing_topic_attribute_goes_to_the_dead_letter_sink(self):
        broker = self.start_broker()
        d = self.start_bridged(broker, subscribe=())
        dlq = self.make_sink()
        self.subscribe_mqtt(d, "s/{subject}", deadlettersink=dlq.url)
        self.publish_binary(b"x", daemon=d, id="no-subject")
        req = dlq.wait_for(1)[0]
        self.assertEqual(req.ce("deadletterreason"), "permanent")
        self.assertIn("no attribute 'subject'", urllib.parse.unquote(req.ce("deadlettererror")))

    def test_broker_restart_loses_nothing(self):
        broker = self.start_broker()
        d = self.start_bridged(broker, subscribe=())
        sub = self.make_subscriber(broker, "stream/#")
        self.subscribe_mqtt(d, "stream/events")
        total, restart_after = 150, 50
        for i in range(total):
            if i == restart_after:
                broker.stop()  # events keep coming while the broker is down
            if i == restart_after + 50:
                broker.start()
            res = self.publish_binary(json.dumps({"seq": i}).encode(), daemon=d, id=f"r-{i}")
            self.assertEqual(res.status, 202, res)
            time.sleep(0.005)
        ids = [json.loads(m.payload)["id"] for m in sub.wait_for(total, timeout=40)]
        self.assertEqual(sorted(set(ids)), sorted(f"r-{i}" for i in range(total)))
        d.wait_for_log(r"bridge ext/out: connection to .* lost")
        print(f"\noutbound across a restart: {total} sent, {len(ids)} received, "
              f"{len(ids) - len(set(ids))} duplicate(s)")


class DocsExampleTest(BridgeTestCase):
    """docs/mqtt-bridges.md's example runs as written (ports swapped for free ones)."""

    def test_example_bridges_both_ways(self):
        source = os.environ.get("EVMESH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
        with open(os.path.join(source, "docs", "mqtt-bridges.md"), encoding="utf-8") as f:
            text = f.read()
        config = fenced_block_after(text, "<!-- example: mqtt-bridge -->", "yaml")
        broker = self.start_broker()
        sink = self.make_sink()
        config = config.replace("127.0.0.1:1883", f"127.0.0.1:{broker.port}")
        config = config.replace("127.0.0.1:9000", f"127.0.0.1:{sink.port}")
        d = self.start_evmeshd(config)
        d.wait_for_log(r"bridge plant/in: connected")
        d.wait_for_log(r"bridge plant/out: connected")
        alarms = self.make_subscriber(broker, "alarms/#")

        self.assertTrue(mosquitto_pub(broker.port, "devices/42/events", '{"t": 21.5}'))
        got = sink.wait_for(1)[0]
        self.assertEqual(got.path, "/readings")
        self.assertEqual(got.ce("type"), "com.example.device.reading")
        self.assertEqual(got.ce("subject"), "devices/42/events")

        res = self.publish_binary(b"{}", daemon=d, id="a-1", type="com.example.alarm.fire",
                                  subject="line-3", content_type="application/json")
        self.assertEqual(res.status, 202, res)
        msg = alarms.wait_for(1)[0]
        self.assertEqual(msg.topic, "alarms/line-3")
        self.assertEqual(json.loads(msg.payload)["id"], "a-1")


class ConfigTest(BridgeTestCase):
    def test_unreachable_broker_is_retried_not_fatal(self):
        port = free_port()
        d = self.start_evmeshd(f"mqtt_bridges:\n  ext:\n    url: tcp://127.0.0.1:{port}\n"
                               "    initial_backoff: 50ms\n    max_backoff: 100ms\n")
        d.wait_for_log(r"bridge ext/out: cannot connect to tcp://127\.0\.0\.1:\d+")
        d.wait_for_log(r"reconnecting in \d+ ms \(attempt 3\)")
        self.assertEqual(d.request("GET", "/readyz").status, 200)

    def test_config_error_names_the_key(self):
        d = Daemon("mqtt_bridges:\n  ext:\n    url: tcp://127.0.0.1:1883\n"
                   "    subscribe: [\"a/#/b\"]\n")
        self.addCleanup(d.close)
        d.spawn()
        self.assertEqual(d.wait(20), 2)
        self.assertRegex(d.output(), r"evmesh\.yaml:4: mqtt_bridges\.ext\.subscribe\[0\]: is not a "
                                     r"valid MQTT topic filter")


if __name__ == "__main__":
    unittest.main()
