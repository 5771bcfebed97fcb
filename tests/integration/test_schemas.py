"""Schema registry at ingress (docs/schemas.md): accept, reject with violations over HTTP,
gRPC and MQTT, dataschema selection, dead letters, registration and compatibility refusals over
the admin API, with the real evmeshd."""

import json
import os
import re
import shutil
import tempfile
import unittest

from harness import EvmeshTestCase, built_binary, wait_until
from security_harness import bearer, hash_key

ADMIN_KEY = "admin-key-0123456789"
ADMIN_LISTENING = re.compile(r"admin listening on 127\.0\.0\.1:(\d+)")
EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "examples", "schemas",
                       "order-created.yaml")
ORDER = "com.example.order.created"
# The docs' example schema and a policy that redacts customerId, as the MQTT and gRPC
# tests configure them (the example's directory is appended).
SCHEMAS_AND_REDACT = """policy:
  name: p
  rules:
    - name: redact
      action: redact-fields
      fields: [customerId]
schemas:
  directory: """


def example_schema_dir(case):
    """A temporary directory holding the docs' example schema, removed after the test."""
    tmp = tempfile.mkdtemp(prefix="evmesh-schemas-")
    case.addCleanup(shutil.rmtree, tmp)
    shutil.copy(EXAMPLE, tmp)
    return tmp


class SchemaCase(EvmeshTestCase):
    start_daemon = False

    def setUp(self):
        super().setUp()
        self.dir = self.enterContext(tempfile.TemporaryDirectory())
        self.schemas = os.path.join(self.dir, "schemas")
        os.mkdir(self.schemas)
        shutil.copy(EXAMPLE, self.schemas)
        with open(os.path.join(self.schemas, "strict.yaml"), "w") as f:
            f.write("type: com.example.strict\nversion: 1\non_invalid: dead-letter\ndead_letter: dlq\n"
                    "schema: {type: object, required: [id]}\n")
        self.sink = self.make_sink()
        self.dlq = self.make_sink()
        self.daemon = self.start_evmeshd(f"""
auth:
  anonymous: true
  api_keys:
    - principal: admin
      hash: {hash_key(ADMIN_KEY)}
admin:
  listen: 127.0.0.1:0
  principals: [admin]
schemas:
  directory: {self.schemas}
subscriptions:
  - id: all
    sink: {self.sink.url}/all
  - id: dlq
    sink: {self.dlq.url}/dlq
    filters: [{{"sql": "FALSE"}}]
""")
        port = wait_until(lambda: (m := ADMIN_LISTENING.search(self.daemon.output())) and int(m.group(1)),
                          10, what="admin listening")
        self.admin = f"http://127.0.0.1:{port}"

    def admin_call(self, method, path, body=None):
        from harness import request
        return request(self.admin, method, path, body, bearer(ADMIN_KEY))

    def publish(self, data, type=ORDER, **attrs):
        h = {"ce-specversion": "1.0", "ce-id": attrs.pop("id", "1"), "ce-source": "/shop",
             "ce-type": type, "Content-Type": "application/json"}
        h.update({"ce-" + k: v for k, v in attrs.items()})
        return self.daemon.request("POST", "/", json.dumps(data).encode(), h)


class SchemaIngressTest(SchemaCase):
    def test_docs_example_accepts_a_valid_order(self):
        res = self.publish({"orderId": "o-1", "customerId": "c-9", "total": 42.5})
        self.assertEqual(res.status, 202, res)
        self.assertEqual(self.sink.wait_for(1)[0].json()["orderId"], "o-1")

    def test_invalid_order_is_rejected_with_every_violation(self):
        res = self.publish({"orderId": 7, "total": -1})
        p = self.assertProblem(res, 400, "rejected", pointer="data",
                               detail_contains="schema com.example.order.created version 1")
        text = "\n".join(p["violations"])
        self.assertIn("customerId", text)        # missing required
        self.assertIn("/orderId", text)          # wrong type
        self.assertIn("/total", text)            # below minimum
        self.assertNoDelivery(self.sink, wait=0.2)

    def test_batch_rejection_names_the_event(self):
        good = {"specversion": "1.0", "id": "a", "source": "/s", "type": ORDER,
                "data": {"orderId": "1", "customerId": "2"}}
        bad = dict(good, id="b", data={"orderId": "1"})
        res = self.publish_batch([good, bad])
        self.assertProblem(res, 400, "rejected", pointer="/1/data")
        self.assertNoDelivery(self.sink, wait=0.2)  # all or nothing

    def test_data_that_is_not_json_is_rejected_for_a_typed_event(self):
        res = self.daemon.request("POST", "/", b"<order/>", {
            "ce-specversion": "1.0", "ce-id": "x", "ce-source": "/s", "ce-type": ORDER,
            "Content-Type": "application/xml"})
        p = self.assertProblem(res, 400, "rejected")
        self.assertIn("not JSON", p["violations"][0])

    def test_dead_letter_setting_sends_invalid_events_to_the_named_subscription(self):
        res = self.publish({"no": "id"}, type="com.example.strict")
        self.assertEqual(res.status, 202, res)
        self.assertEqual(self.dlq.wait_for(1)[0].json(), {"no": "id"})
        self.assertNoDelivery(self.sink, wait=0.2)
        self.assertEqual(self.publish({"id": 1}, type="com.example.strict").status, 202)
        self.sink.wait_for(1)

    def test_types_without_a_schema_pass(self):
        self.assertEqual(self.publish({"anything": True}, type="com.example.free").status, 202)

    def test_register_list_get_and_dataschema_selection(self):
        v2 = {"type": ORDER, "version": 2, "uri": "https://schemas.example/order/2",
              "schema": {"type": "object",
                         "properties": {"orderId": {"type": "string"}, "customerId": {"type": "string"},
                                        "total": {"type": "number"}, "note": {"type": "string"}},
                         "required": ["orderId"]}}
        res = self.admin_call("POST", "/admin/schemas", v2)
        self.assertEqual(res.status, 201, res)
        self.assertEqual(res.json()["version"], 2)
        listed = self.admin_call("GET", "/admin/schemas").json()
        order = next(t for t in listed if t["type"] == ORDER)
        self.assertEqual([v["version"] for v in order["versions"]], [1, 2])
        self.assertEqual(self.admin_call("GET", f"/admin/schemas/{ORDER}").json()["version"], 2)
        one = self.admin_call("GET", f"/admin/schemas/{ORDER}/versions/1").json()
        self.assertEqual(one["schema"]["required"], ["orderId", "customerId"])
        self.assertEqual(self.admin_call("GET", f"/admin/schemas/{ORDER}/versions/9").status, 404)
        # latest (v2) no longer requires customerId ...
        self.assertEqual(self.publish({"orderId": "1"}).status, 202)
        # ... but an event naming v1 in dataschema is checked against v1
        res = self.publish({"orderId": "1"}, dataschema="evmesh:schema:com.example.order.created:1")
        self.assertProblem(res, 400, "rejected", detail_contains="version 1")

    def test_incompatible_version_is_refused_with_the_reason(self):
        v2 = {"type": ORDER, "version": 2,
              "schema": {"type": "object", "properties": {"orderId": {"type": "integer"}},
                         "required": ["orderId", "customerId", "currency"]}}
        res = self.admin_call("POST", "/admin/schemas", v2)
        p = self.assertProblem(res, 400, "rejected", detail_contains="breaks the backward compatibility")
        text = "\n".join(p["violations"])
        self.assertIn("'currency' is required by the reader's schema", text)
        self.assertIn("property 'orderId' may be string", text)
        # nothing changed
        listed = self.admin_call("GET", f"/admin/schemas/{ORDER}").json()
        self.assertEqual(listed["version"], 1)

    def test_bad_registrations_are_refused_precisely(self):
        cases = [({"type": ORDER, "schema": {}}, 400, "version: is required"),
                 ({"type": ORDER, "version": 1, "schema": {}}, 409, "must be above the latest"),
                 ({"type": "t", "version": 1, "schema": {"type": 12}}, 400, "not a valid JSON Schema"),
                 ({"type": "t", "version": 1, "schema": {}, "colour": 1}, 400, "colour: unknown key")]
        for body, status, detail in cases:
            with self.subTest(detail=detail):
                self.assertProblem(self.admin_call("POST", "/admin/schemas", body), status,
                                   detail_contains=detail)


class SchemaOverMqttTest(EvmeshTestCase):
    """The same pipeline on the MQTT listener: a 5.0 PUBACK refuses an invalid event with its
    violations in the reason string; a valid one is transformed by the policy."""
    start_daemon = False

    def setUp(self):
        from mqtt_clients import MQTT_SETS, mqtt_port
        super().setUp()
        tmp = example_schema_dir(self)
        self.sink = self.make_sink()
        self.daemon = self.start_evmeshd(f"""
mqtt:
  topic_types: [{{filter: "orders/#", type: "{ORDER}"}}]
subscriptions:
  - id: orders
    sink: {self.sink.url}/o
    types: ["{ORDER}"]
{SCHEMAS_AND_REDACT}{tmp}
""", MQTT_SETS)
        self.port = mqtt_port(self.daemon)

    def test_puback_refuses_with_the_violations_and_a_valid_event_is_transformed(self):
        from mqtt_clients import Raw, connect, publish
        r = Raw(self.port)
        self.addCleanup(r.close)
        r.send(connect("schema-client", version=5))
        self.assertEqual(r.recv().reason, 0)
        r.send(publish("orders/1", b'{"orderId": 5}', qos=1, pid=1))
        ack = r.recv()
        self.assertEqual((ack.type, ack.reason), (4, 0x83), ack)  # PUBACK, implementation specific error
        self.assertIn("does not match schema com.example.order.created version 1", ack.reason_string())
        self.assertIn("customerId", ack.reason_string())
        r.send(publish("orders/2", b'{"orderId": "1", "customerId": "c"}', qos=1, pid=2))
        self.assertEqual(r.recv().reason, 0)
        self.assertEqual(self.sink.wait_for(1)[0].json(), {"orderId": "1", "customerId": "[REDACTED]"})


class SchemaOverGrpcTest(__import__("grpc_harness").GrpcTestCase):
    """The same pipeline on gRPC: a schema violation is INVALID_ARGUMENT listing it; a policy
    transforms the event for a gRPC publisher too."""

    def setUp(self):
        self.config = SCHEMAS_AND_REDACT + example_schema_dir(self) + "\n"
        super().setUp()

    def test_invalid_argument_lists_the_violations(self):
        import grpc
        ev = self.event(type=ORDER, text='{"orderId": 5}', datacontenttype="application/json")
        with self.assertRaises(grpc.RpcError) as caught:
            self.publish(ev)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        details = caught.exception.details()
        self.assertIn("does not match schema com.example.order.created version 1", details)
        self.assertIn("customerId", details)
        self.assertIn("/orderId", details)

    def test_valid_event_is_accepted_and_transformed(self):
        sink = self.make_sink()
        self.subscribe(sink.url + "/o")
        ev = self.event(type=ORDER, text='{"orderId": "1", "customerId": "c"}',
                        datacontenttype="application/json")
        self.publish(ev)
        self.assertEqual(sink.wait_for(1)[0].json(), {"orderId": "1", "customerId": "[REDACTED]"})


if __name__ == "__main__":
    unittest.main()
