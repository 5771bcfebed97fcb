"""MQTT <-> mesh round trips (docs/protocols.md): an MQTT publish becomes a CloudEvent
that HTTP subscriptions filter; events published over HTTP and gRPC reach MQTT
subscribers on the documented topic, in binary mode (5.0) or structured (3.1.1)."""
import json
import os
import re
import subprocess
import time
import unittest
import urllib.parse

from grpc_harness import GrpcTestCase
from harness import binary_headers
from mqtt_clients import (MQTT_SETS, Collector, Raw, connect, mqtt_port, p_str, p_user, props,
                          publish)

SOURCE_DIR = os.environ.get("EVMESH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))

CONFIG = """
mqtt:
  topic_types:
    - {filter: "devices/+/events", type: "com.acme.device.event"}
"""


class MeshCase(GrpcTestCase):
    config = CONFIG
    sets = MQTT_SETS

    def setUp(self):
        super().setUp()
        self.port = mqtt_port(self.daemon)

    def paho(self, **kw):
        c = Collector(self.port, **kw)
        self.addCleanup(c.close)
        return c

    def http_subscription(self, **filter_):
        sink = self.make_sink()
        res = self.daemon.request("POST", "/subscriptions", {"sink": sink.url, "filters": [filter_]})
        self.assertEqual(res.status, 201, res.body)
        return sink

    def publish_http(self, **kw):
        res = self.daemon.request("POST", "/", b'{"n": 1}', binary_headers(content_type="application/json", **kw))
        self.assertEqual(res.status, 202, res.body)


class MqttToMesh(MeshCase):
    def test_plain_device_message_becomes_a_filterable_event(self):
        sink = self.http_subscription(prefix={"type": "com.acme.device."})
        self.paho(version=4, client_id="dev 42").publish("devices/42/events", '{"temp": 21}', qos=1)
        got = sink.wait_for(1)[0]
        self.assertEqual(got.ce("type"), "com.acme.device.event")
        # The client id is percent-encoded into the source (and the HTTP binding encodes '%').
        self.assertEqual(urllib.parse.unquote(got.ce("source")), "/mqtt/dev%2042")
        self.assertEqual(got.ce("subject"), "devices/42/events")
        self.assertEqual(got.ce("mqtttopic"), "devices/42/events")
        self.assertEqual(len(got.ce("id")), 36)
        self.assertEqual(got.headers["content-type"], "application/json")
        self.assertEqual(got.body, b'{"temp": 21}')

    def test_binary_mode_5_keeps_every_attribute(self):
        sink = self.http_subscription(exact={"type": "com.example.bin"})
        r = Raw(self.port)
        self.addCleanup(r.close)
        r.send(connect("bin")).recv()
        r.send(publish("any/topic", b"<a/>", qos=1, properties=props(
            p_str(0x03, "application/xml"), p_user("specversion", "1.0"), p_user("id", "b-1"),
            p_user("source", "/plant"), p_user("type", "com.example.bin"), p_user("myext", "x"))))
        self.assertEqual(r.recv().reason, 0)
        got = sink.wait_for(1)[0]
        self.assertEqual((got.ce("id"), got.ce("source"), got.ce("myext")), ("b-1", "/plant", "x"))
        self.assertEqual((got.headers["content-type"], got.body), ("application/xml", b"<a/>"))

    def test_structured_mode_3_1_1(self):
        sink = self.http_subscription(exact={"type": "com.example.structured"})
        ev = {"specversion": "1.0", "id": "s-1", "source": "/s", "type": "com.example.structured",
              "data": {"k": [1, 2]}}
        self.paho(version=4).publish("x/y", json.dumps(ev), qos=1)
        got = sink.wait_for(1)[0]
        self.assertEqual(got.ce("id"), "s-1")
        self.assertEqual(json.loads(got.body), {"k": [1, 2]})

    def test_invalid_cloudevent_is_refused_with_0x99_and_not_delivered(self):
        self.http_subscription(exact={"type": "never"})
        watcher = self.paho().subscribe("bad/#", qos=1)
        r = Raw(self.port)
        self.addCleanup(r.close)
        r.send(connect("bad")).recv()
        r.send(publish("bad/1", b"x", qos=1, properties=props(
            p_user("specversion", "1.0"), p_user("id", "1"), p_user("source", "/s"))))
        puback = r.recv()
        self.assertEqual(puback.reason, 0x99)
        self.assertIn("type", puback.reason_string())
        time.sleep(0.3)
        self.assertEqual(watcher.count(), 0)

    def test_mqtt_to_mqtt_is_delivered_once_when_the_mesh_also_listens(self):
        sink = self.http_subscription(prefix={"type": "io.evmesh."})
        sub = self.paho().subscribe("loop/#", qos=1)
        self.paho().publish("loop/1", "once", qos=1)
        sink.wait_for(1)
        sub.wait_for(1)
        time.sleep(0.5)
        self.assertEqual((sub.count(), sink.count()), (1, 1))


class MeshToMqtt(MeshCase):
    def test_http_event_reaches_5_in_binary_and_3_1_1_structured(self):
        v5 = self.paho().subscribe("events/#", qos=1)
        v4 = self.paho(version=4).subscribe("events/com.example.order.created", qos=1)
        self.publish_http(id="o-1", source="/shop", type="com.example.order.created")
        m5 = v5.wait_for(1)[0]
        self.assertEqual(m5.topic, "events/com.example.order.created")
        self.assertEqual(m5.payload, b'{"n": 1}')
        props5 = dict(m5.properties.UserProperty)
        self.assertEqual((props5["id"], props5["source"], props5["specversion"]), ("o-1", "/shop", "1.0"))
        self.assertEqual(m5.properties.ContentType, "application/json")
        m4 = json.loads(v4.wait_for(1)[0].payload)
        self.assertEqual((m4["id"], m4["type"], m4["data"]), ("o-1", "com.example.order.created", {"n": 1}))

    def test_docs_example(self):
        with open(os.path.join(SOURCE_DIR, "docs", "protocols.md"), encoding="utf-8") as f:
            doc = f.read()
        start = doc.index("<!-- example: mqtt-events -->")
        script = re.search(r"```sh\n(.*?)```", doc[start:], re.S).group(1)
        expected = re.search(r"prints\n\n```\n(.*?)\n```", doc[start:], re.S).group(1)
        script = script.replace("-p 1883", f"-p {self.port}").replace("127.0.0.1:8080", f"127.0.0.1:{self.daemon.port}")
        out = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), expected)

    def test_mqtttopic_extension_chooses_the_topic(self):
        sub = self.paho().subscribe("plant/+/alarm", qos=1)
        self.publish_http(id="a-1", mqtttopic="plant/7/alarm")
        self.assertEqual(sub.wait_for(1)[0].topic, "plant/7/alarm")

    def test_grpc_event_reaches_mqtt(self):
        sub = self.paho().subscribe("events/com.example.grpc", qos=1)
        self.publish(self.event(id="g-1", type="com.example.grpc", text="hi"))
        m = sub.wait_for(1)[0]
        self.assertEqual(dict(m.properties.UserProperty)["id"], "g-1")
        self.assertEqual(m.payload, b"hi")

    def test_round_trip_mqtt_http_mqtt(self):
        # MQTT -> mesh -> HTTP webhook; the same event re-published over HTTP with a
        # topic comes back to MQTT with its attributes intact.
        sink = self.http_subscription(prefix={"type": "com.acme.device."})
        back = self.paho().subscribe("again/#", qos=1)
        self.paho(version=4, client_id="d1").publish("devices/1/events", '{"v": 1}', qos=1)
        got = sink.wait_for(1)[0]
        headers = {k: v for k, v in got.headers.items() if k.startswith("ce-")}
        headers["ce-mqtttopic"] = "again/1"
        headers["ce-id"] = got.ce("id") + "-again"
        headers["Content-Type"] = got.headers["content-type"]
        res = self.daemon.request("POST", "/", got.body, headers)
        self.assertEqual(res.status, 202, res.body)
        m = back.wait_for(1)[0]
        up = dict(m.properties.UserProperty)
        self.assertEqual((m.topic, up["source"], up["type"], m.payload),
                         ("again/1", "/mqtt/d1", "com.acme.device.event", b'{"v": 1}'))


if __name__ == "__main__":
    unittest.main()
