"""Authentication and ACLs on the native MQTT listener (docs/security.md, "MQTT"):
CONNECT credentials against auth.api_keys (pbkdf2 hashes), publishes refused by the
ACL (0x87 in 5.0, acknowledged and dropped in 3.1.1), subscribers that only receive
the types their principal may subscribe to. Real paho clients and raw packets."""
import pathlib
import shlex
import subprocess
import time
import unittest

from harness import EvmeshTestCase
from mqtt_clients import MQTT_SETS, Collector, Raw, connect, mqtt_port, publish
from security_harness import evmeshctl

PASSWORDS = {"device": "device-pass-1", "reader": "reader-pass-1"}


def pbkdf2(password):
    out = evmeshctl("hash-key", "--pbkdf2", "-", input=password + "\n")
    if out.returncode != 0:
        raise AssertionError(out.stderr)
    return out.stdout.strip()


def config():
    keys = "".join(f"    - principal: {p}\n      hash: \"{pbkdf2(pw)}\"\n" for p, pw in PASSWORDS.items())
    return f"""
mqtt:
  topic_types:
    - {{filter: "orders/#", type: "com.company.order.created"}}
    - {{filter: "payments/#", type: "com.company.payment.done"}}
auth:
  api_keys:
{keys}acl:
  - name: devices
    principal: device
    allow:
      - publish: "**"
    deny:
      - publish: "com.company.payment.*"
  - name: readers
    principal: reader
    allow:
      - subscribe: "com.company.order.*"
"""


class MqttSecurity(EvmeshTestCase):
    sets = MQTT_SETS

    @classmethod
    def setUpClass(cls):
        cls.config = config()  # hashing is slow: once per class

    def setUp(self):
        super().setUp()
        self.port = mqtt_port(self.daemon)

    def paho(self, **kw):
        c = Collector(self.port, **kw)
        self.addCleanup(c.close)
        return c

    def raw(self, version, user="device"):
        r = Raw(self.port)
        self.addCleanup(r.close)
        r.send(connect(f"raw{version}", version=version, username=user, password=PASSWORDS[user]))
        self.assertEqual(r.recv().reason, 0)
        return r

    def test_good_and_bad_passwords_in_both_versions(self):
        for version in (4, 5):
            with self.subTest(version=version):
                ok = self.paho(version=version, username="device", password=PASSWORDS["device"])
                self.assertEqual(ok.connack[1], 0)
                bad = self.paho(version=version, username="device", password="wrong")
                self.assertEqual(bad.connack[1], 0x86 if version == 5 else 4)
                unknown = self.paho(version=version, username="nobody", password="x")
                self.assertEqual(unknown.connack[1], 0x86 if version == 5 else 4)
        self.daemon.wait_for_log("denied: mqtt login of user 'device' unauthenticated")

    def test_anonymous_is_refused_once_an_acl_exists(self):
        for version, code in ((4, 5), (5, 0x87)):
            with self.subTest(version=version):
                r = Raw(self.port)
                self.addCleanup(r.close)
                r.send(connect(f"anon{version}", version=version))
                connack = r.recv()
                self.assertEqual((connack.type, connack.reason), (2, code))
                if version == 5:
                    self.assertIn("anonymous access is off", connack.reason_string())
                r.expect_closed()

    def test_publish_of_a_denied_type(self):
        # 5.0: PUBACK / PUBREC carry 0x87 and say why.
        r = self.raw(5)
        r.send(publish("payments/1", b"{}", qos=1, pid=7))
        puback = r.recv()
        self.assertEqual((puback.type, puback.reason), (4, 0x87))
        self.assertIn("may not publish events of type 'com.company.payment.done'", puback.reason_string())
        r.send(publish("payments/1", b"{}", qos=2, pid=8))
        self.assertEqual(r.recv().reason, 0x87)
        r.send(publish("orders/1", b"{}", qos=1, pid=9))
        self.assertEqual(r.recv().reason, 0)
        # 3.1.1 has no reason code: acknowledged, dropped, the connection stays.
        r3 = self.raw(4)
        r3.send(publish("payments/1", b"{}", qos=1, pid=3, version=4))
        self.assertEqual(r3.recv().type, 4)
        r3.send(publish("orders/1", b"{}", qos=1, pid=4, version=4))
        self.assertEqual(r3.recv().type, 4)
        self.daemon.wait_for_log("denied: principal 'device' publish type 'com.company.payment.done'")

    def test_subscribers_receive_only_types_their_principal_may_subscribe_to(self):
        for version in (4, 5):
            with self.subTest(version=version):
                reader = self.paho(version=version, username="reader", password=PASSWORDS["reader"])
                reader.subscribe("#", qos=1)
                device = self.paho(version=version, username="device", password=PASSWORDS["device"])
                device.publish("orders/a", "o1", qos=1)
                # default_type (io.evmesh.mqtt.message): the reader may not receive it.
                device.publish("orders-internal", "plain", qos=1)
                device.publish("orders/b", "o2", qos=1)
                reader.wait_for(2)
                time.sleep(0.3)
                self.assertEqual([(m.topic, m.payload) for m in reader.messages],
                                 [("orders/a", b"o1"), ("orders/b", b"o2")])
                reader.close()
        self.daemon.wait_for_log("denied: principal 'reader' receive type 'io.evmesh.mqtt.message'")

    def test_the_protocols_doc_example_connects_and_publishes(self):
        doc = pathlib.Path(__file__).resolve().parents[2] / "docs" / "protocols.md"
        line = next(l for l in doc.read_text().splitlines() if l.startswith("mosquitto_pub -p 1883 -u device"))
        args = shlex.split(line.replace("-p 1883", f"-p {self.port}"))
        out = subprocess.run(args, capture_output=True, text=True, timeout=20)
        self.assertEqual(out.returncode, 0, out.stderr)
        wrong = subprocess.run([a if a != "device-pass-1" else "nope" for a in args], capture_output=True,
                               text=True, timeout=20)
        self.assertNotEqual(wrong.returncode, 0)
        self.assertIn("bad user name or password", wrong.stderr.lower())


if __name__ == "__main__":
    unittest.main()
