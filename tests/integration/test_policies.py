"""Policies at ingress (docs/policies.md): every action, evaluation order, key rotation and
a consumer decrypting what a policy encrypted, with the real evmeshd, curl and evmeshctl.

Each action test, and the seed policy's (encrypt-fields, set-ttl, key rotation), runs on every
ingress protocol: over HTTP (ActionsTest, SeedPolicyTest; curl for the seed policy), over gRPC
(the *OverGrpcTest classes: the Broker Publish / PublishBatch RPCs with the CloudEvents protobuf,
grpcio) and over MQTT 5 (the *OverMqttTest classes: binary mode, the attributes as user
properties, QoS 1, the PUBACK reason code checked). Only the publishing differs (OverGrpc,
OverMqtt); every assertion is on what the real webhook sink received."""

import base64
import datetime
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from harness import EvmeshTestCase, built_binary, curl, wait_until
from mqtt_clients import MQTT_SETS, Raw, connect, mqtt_port, p_str, p_user, props, publish

SEED_POLICY = """
policy:
  name: customer-data-policy
  rules:
    - name: pii-encryption
      condition: "data contains 'ssn' OR data contains 'email'"
      action: encrypt-fields
      fields: ["ssn", "email"]
    - name: retention
      condition: "type startsWith 'com.company.'"
      action: set-ttl
      ttl-days: 90
"""


def key_file(path, active, *kids):
    keys = {kid: base64.b64encode(os.urandom(32)).decode() for kid in kids}
    write_keys(path, active, keys)
    return keys


def write_keys(path, active, keys):
    with open(path, "w") as f:
        f.write(f"active: {active}\nkeys:\n")
        for kid, key in keys.items():
            f.write(f"  {kid}: \"{key}\"\n")


def evmeshctl(*args, input=None):
    return subprocess.run([built_binary("evmeshctl", "EVMESHCTL"), *args], input=input,
                          capture_output=True, text=True, timeout=30)


class PolicyCase(EvmeshTestCase):
    """Publishes over HTTP; OverGrpc and OverMqtt publish the same events on their protocol."""
    start_daemon = False

    def start_with(self, policy, extra=""):
        """A daemon with `policy`, one subscription `all` (every event) to a sink."""
        self.sink = self.make_sink()
        self.audit = self.make_sink()
        config = f"""
subscriptions:
  - id: all
    sink: {self.sink.url}/all
  - id: audit
    sink: {self.audit.url}/audit
    filters: [{{"sql": "FALSE"}}]
{extra}
{policy}
"""
        self.daemon = self.start_evmeshd(config, self.sets)
        self.connect()
        return self.daemon

    def connect(self):
        """Opens the protocol's client once the daemon is up (HTTP needs none)."""

    @staticmethod
    def attributes(id="1", source="/crm", type="com.company.customer.created", **extensions):
        return {"specversion": "1.0", "id": id, "source": source, "type": type, **extensions}

    def publish(self, data, **attrs):
        h = {"ce-" + k: v for k, v in self.attributes(**attrs).items()}
        h["Content-Type"] = "application/json"
        return self.daemon.request("POST", "/", json.dumps(data).encode(), h)

    def publish_ok(self, data, **attrs):
        """Publishes a JSON event and checks the publisher's acknowledgement."""
        res = self.publish(data, **attrs)
        self.assertEqual(res.status, 202, res)

    def publish_batch_ok(self, events):
        res = self.publish_batch(events)
        self.assertEqual(res.status, 202, res)


class OverGrpc:
    """Mixin: publishes with the Broker Publish / PublishBatch RPCs (CloudEvents protobuf)."""
    sets = ("grpc.enabled=true",)

    def connect(self):
        import grpc
        from grpc_harness import GRPC_LISTENING, stubs
        self.pb, pb_grpc, self.ce_pb = stubs()
        port = wait_until(lambda: (m := GRPC_LISTENING.search(self.daemon.output())) and int(m.group(1)),
                          10, what="grpc listening")
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.addCleanup(channel.close)
        self.stub = pb_grpc.BrokerStub(channel)

    def to_proto(self, attrs, data=None):
        attrs = dict(attrs)
        ev = self.ce_pb.CloudEvent(spec_version=attrs.pop("specversion"), id=attrs.pop("id"),
                                   source=attrs.pop("source"), type=attrs.pop("type"))
        if data is not None:
            ev.text_data = json.dumps(data)
            attrs["datacontenttype"] = "application/json"
        for name, value in attrs.items():
            ev.attributes[name].ce_string = value
        return ev

    def publish_ok(self, data, **attrs):
        self.stub.Publish(self.pb.PublishRequest(event=self.to_proto(self.attributes(**attrs), data)),
                          timeout=5)  # anything but OK raises

    def publish_batch_ok(self, events):
        batch = self.ce_pb.CloudEventBatch(events=[
            self.to_proto({k: v for k, v in e.items() if k != "data"}, e.get("data")) for e in events])
        res = self.stub.PublishBatch(self.pb.PublishBatchRequest(batch=batch), timeout=5)
        self.assertEqual([r.code for r in res.results], [0] * len(events), res)


class OverMqtt:
    """Mixin: publishes to the MQTT listener, MQTT 5 binary mode (attributes as user properties,
    Content Type application/json), QoS 1; the PUBACK must say success (0x00)."""
    sets = MQTT_SETS

    def connect(self):
        self.mqtt = Raw(mqtt_port(self.daemon))
        self.addCleanup(self.mqtt.close)
        self.mqtt.send(connect("policy-publisher", version=5))
        self.assertEqual(self.mqtt.recv().reason, 0)
        self.pid = 0

    def publish_ok(self, data, **attrs):
        self.pid += 1
        properties = props(p_str(0x03, "application/json"),
                           *(p_user(k, v) for k, v in self.attributes(**attrs).items()))
        self.mqtt.send(publish("policies/in", json.dumps(data), qos=1, pid=self.pid, properties=properties))
        ack = self.mqtt.recv()
        self.assertEqual((ack.type, ack.reason), (4, 0), ack.reason_string() if ack.type == 4 else ack)

    def publish_batch_ok(self, events):
        self.skipTest("MQTT has no batch: one event per PUBLISH (the other tests)")


class SeedPolicyTest(PolicyCase):
    def setUp(self):
        super().setUp()
        self.tmpdir = self.enterContext(tempfile.TemporaryDirectory())
        self.keys_path = os.path.join(self.tmpdir, "keys.yaml")
        self.keys = key_file(self.keys_path, "k1", "k1")
        self.start_with(SEED_POLICY, f"encryption:\n  key_file: {self.keys_path}\n")

    def publish_ok(self, data, **attrs):
        # over HTTP the publisher is curl, as an operator would
        headers = [a for k, v in self.attributes(**attrs).items() for a in ("-H", f"ce-{k}: {v}")]
        res = curl(["-X", "POST", self.daemon.url + "/", *headers, "-H", "Content-Type: application/json",
                    "-d", json.dumps(data)])
        self.assertEqual(res.status, 202, res)

    def test_seed_policy_encrypts_and_sets_ttl_and_a_consumer_decrypts(self):
        self.publish_ok({"name": "Ann", "ssn": "123-45-6789", "email": "ann@example.com", "age": 41}, id="c1")
        got = self.sink.wait_for(1)[0]
        data = got.json()
        self.assertEqual(data["name"], "Ann")
        self.assertEqual(data["age"], 41)
        for field in ("ssn", "email"):
            env = data[field]
            self.assertEqual(env["$enc"], "aes-256-gcm", env)
            self.assertEqual(env["kid"], "k1")
            self.assertEqual(len(base64.b64decode(env["iv"])), 12)
            self.assertEqual(len(base64.b64decode(env["tag"])), 16)
            self.assertNotIn("123-45", json.dumps(env))
        expiry = datetime.datetime.fromisoformat(got.ce("expirytime").replace("Z", "+00:00"))
        in_90_days = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=90)
        self.assertLess(abs((expiry - in_90_days).total_seconds()), 120, got.ce("expirytime"))

        # the consumer decrypts with evmeshctl and the key file
        out = evmeshctl("decrypt", "--key-file", self.keys_path, "-", input=json.dumps(data))
        self.assertEqual(out.returncode, 0, out)
        self.assertEqual(json.loads(out.stdout),
                         {"name": "Ann", "ssn": "123-45-6789", "email": "ann@example.com", "age": 41})

        # a wrong key is refused with a clear error
        other = os.path.join(self.tmpdir, "other.yaml")
        key_file(other, "k1", "k1")
        out = evmeshctl("decrypt", "--key-file", other, "-", input=json.dumps(data))
        self.assertEqual(out.returncode, 2, out)
        self.assertIn("authentication failed", out.stderr)

    def test_condition_false_leaves_the_event_alone(self):
        self.publish_ok({"name": "Bob"}, type="org.other.created")
        got = self.sink.wait_for(1)[0]
        self.assertEqual(got.json(), {"name": "Bob"})
        self.assertIsNone(got.ce("expirytime"))

    def test_key_rotation(self):
        self.publish_ok({"ssn": "old"}, id="a")
        old = self.sink.wait_for(1)[0].json()
        self.assertEqual(old["ssn"]["kid"], "k1")
        # rotate: k2 becomes active, k1 stays for decryption; SIGHUP reloads
        self.keys["k2"] = base64.b64encode(os.urandom(32)).decode()
        write_keys(self.keys_path, "k2", self.keys)
        self.daemon.signal(signal.SIGHUP)
        self.daemon.wait_for_log(r"reload \(.*\): config applied")

        def rotated():
            self.publish_ok({"ssn": "new"}, id="probe")
            return self.sink.wait_for(self.sink.count() or 1)[-1].json()["ssn"]["kid"] == "k2"
        wait_until(rotated, what="events encrypted under k2")
        new = self.sink.wait_for(2)[-1].json()
        for doc, plain in ((old, "old"), (new, "new")):
            out = evmeshctl("decrypt", "--key-file", self.keys_path, json.dumps(doc))
            self.assertEqual(out.returncode, 0, out)
            self.assertEqual(json.loads(out.stdout)["ssn"], plain)


ACTIONS = """
policy:
  - name: shaping
    rules:
      - name: redact-card
        condition: "type = 'pay'"
        action: redact-fields
        fields: ["card.number", "cvv"]
      - name: drop-noise
        condition: "type = 'noise'"
        action: drop
      - name: tag
        condition: "source endsWith '/eu'"
        action: set-extension
        extension: region
        value: eu
      - name: untag
        condition: "EXISTS secret"
        action: remove-extension
        extension: secret
      - name: rename
        condition: "type = 'legacy.order'"
        action: rename-type
        to: com.example.order.created
      - name: after-rename
        condition: "type = 'com.example.order.created'"
        action: rename-source
        to: /orders
      - name: copy-to-audit
        condition: "subject contains 'vip'"
        action: route
        sink: audit
"""


class ActionsTest(PolicyCase):
    def setUp(self):
        super().setUp()
        self.start_with(ACTIONS)

    def test_redact_fields_nested_and_top_level(self):
        self.publish_ok({"card": {"number": "4111", "exp": "12/30"}, "cvv": 123}, type="pay")
        self.assertEqual(self.sink.wait_for(1)[0].json(),
                         {"card": {"number": "[REDACTED]", "exp": "12/30"}, "cvv": "[REDACTED]"})

    def test_drop_is_acknowledged_and_routed_nowhere(self):
        self.publish_ok({}, type="noise")
        self.assertNoDelivery(self.sink)

    def test_set_and_remove_extension(self):
        self.publish_ok({}, type="t", source="/shop/eu", secret="s3")
        got = self.sink.wait_for(1)[0]
        self.assertEqual(got.ce("region"), "eu")
        self.assertIsNone(got.ce("secret"))

    def test_rules_see_the_event_as_transformed_so_far(self):
        # rename-type runs first; the next rule's condition matches the new type
        self.publish_ok({}, type="legacy.order", source="/old")
        got = self.sink.wait_for(1)[0]
        self.assertEqual(got.ce("type"), "com.example.order.created")
        self.assertEqual(got.ce("source"), "/orders")

    def test_route_to_a_named_subscription(self):
        self.publish_ok({"n": 1}, type="t", subject="vip-42")
        self.assertEqual(self.audit.wait_for(1)[0].json(), {"n": 1})
        self.assertEqual(self.sink.wait_for(1)[0].json(), {"n": 1})  # normal routing too
        self.publish_ok({"n": 2}, type="t", subject="plain")
        self.sink.wait_for(2)
        time.sleep(0.3)
        self.assertEqual(self.audit.count(), 1, self.audit.requests)

    def test_batch_is_transformed_event_by_event(self):
        batch = [{"specversion": "1.0", "id": "b1", "source": "/x", "type": "pay", "data": {"cvv": 1}},
                 {"specversion": "1.0", "id": "b2", "source": "/x", "type": "noise"},
                 {"specversion": "1.0", "id": "b3", "source": "/x", "type": "other", "data": {"cvv": 1}}]
        self.publish_batch_ok(batch)
        got = sorted(self.sink.wait_for(2), key=lambda r: r.ce("id"))
        self.assertEqual([r.ce("id") for r in got], ["b1", "b3"])
        self.assertEqual(got[0].json(), {"cvv": "[REDACTED]"})
        self.assertEqual(got[1].json(), {"cvv": 1})


class ActionsOverGrpcTest(OverGrpc, ActionsTest):
    pass


class ActionsOverMqttTest(OverMqtt, ActionsTest):
    pass


class SeedPolicyOverGrpcTest(OverGrpc, SeedPolicyTest):
    pass


class SeedPolicyOverMqttTest(OverMqtt, SeedPolicyTest):
    pass


class BadPolicyConfigTest(unittest.TestCase):
    """Each bad policy file is refused at start-up with file, line, key and reason."""

    CASES = [
        ("policy:\n  name: p\n  rules:\n    - name: r\n      action: explode\n",
         ":5: policy.rules[0].action: must be one of encrypt-fields"),
        ("policy:\n  name: p\n  rules:\n    - name: r\n      action: set-ttl\n      ttl-days: soon\n",
         ":6: policy.rules[0].ttl-days: must be a whole number of days"),
        ("policy:\n  name: p\n  rules:\n    - name: r\n      action: drop\n    - name: r\n      action: drop\n",
         ":6: policy.rules[1].name: duplicate rule name 'r'"),
        ("policy:\n  name: p\n  rules:\n    - name: r\n      action: drop\n      fields: [a]\n",
         ":6: policy.rules[0].fields: unknown key for action drop"),
        ("policy:\n  name: p\n  rules:\n    - name: r\n      condition: \"type startsWith\"\n      action: drop\n",
         ":5: policy.rules[0].condition: at position 6: startsWith must be followed by a string literal"),
        ("policy:\n  name: p\n  rules:\n    - name: r\n      condition: \"type = \"\n      action: drop\n",
         "policy.rules[0].condition:"),
        ("policy:\n  name: p\n  colour: red\n  rules: []\n", ":3: policy.colour: unknown key"),
        ("policy:\n  name: p\n  rules:\n    - name: r\n      action: encrypt-fields\n      fields: [ssn]\n",
         "no key file is configured (encryption.key_file)"),
    ]

    def test_each_bad_policy_is_refused_precisely(self):
        import tempfile
        for text, expected in self.CASES:
            with self.subTest(expected=expected), tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "evmesh.yaml")
                with open(path, "w") as f:
                    f.write(text)
                out = subprocess.run([built_binary("evmeshd", "EVMESHD"), "--config", path, "--check-config"],
                                     capture_output=True, text=True, timeout=30)
                self.assertEqual(out.returncode, 2, out)
                self.assertIn(expected, out.stderr)


if __name__ == "__main__":
    unittest.main()
