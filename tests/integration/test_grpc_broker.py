"""The gRPC listener end to end: publish, subscribe with acks and credit, consumer
groups, protocol translation to and from HTTP, and error statuses."""

import json
import time
import unittest

from grpc_harness import GrpcTestCase, StreamReader, grpc
from harness import Reply, binary_headers, wait_until


class PublishTest(GrpcTestCase):
    sets = ("grpc.publish_wait=0",)  # a full queue answers at once (test_backpressure_...)

    def test_grpc_to_http_webhook_keeps_every_attribute(self):
        sink = self.make_sink()
        self.subscribe(sink.url)
        ev = self.event(id="g1", type="com.example.order", subject="eu/1", text='{"a":1}',
                        datacontenttype="application/json", flag=True, count=42, note="hi")
        ev.attributes["time"].ce_timestamp.seconds = 1700000000
        ev.attributes["dataschema"].ce_uri = "https://example.com/schema"
        res = self.publish(ev)
        self.assertEqual(res.deliveries, 1)
        got = sink.wait_for(1)[0]
        self.assertEqual(got.ce("id"), "g1")
        self.assertEqual(got.ce("source"), "/it")
        self.assertEqual(got.ce("type"), "com.example.order")
        self.assertEqual(got.ce("subject"), "eu/1")
        self.assertEqual(got.ce("time"), "2023-11-14T22:13:20Z")
        self.assertEqual(got.ce("dataschema"), "https://example.com/schema")
        self.assertEqual(got.ce("flag"), "true")
        self.assertEqual(got.ce("count"), "42")
        self.assertEqual(got.ce("note"), "hi")
        self.assertEqual(got.headers.get("content-type"), "application/json")
        self.assertEqual(got.body, b'{"a":1}')

    def test_invalid_event_names_the_attribute(self):
        with self.assertRaises(grpc.RpcError) as e:
            self.publish(self.event(source=""))
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("source", e.exception.details())
        with self.assertRaises(grpc.RpcError) as e:
            self.publish(self.event(dataschema="not a uri"))
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("dataschema", e.exception.details())

    def test_batch_reports_each_event(self):
        sink = self.make_sink()
        self.subscribe(sink.url)
        batch = self.ce.CloudEventBatch(events=[self.event(id="a"), self.event(id=""),
                                                self.event(id="c")])
        res = self.stub.PublishBatch(self.pb.PublishBatchRequest(batch=batch), timeout=5)
        self.assertEqual([r.code for r in res.results], [0, grpc.StatusCode.INVALID_ARGUMENT.value[0], 0])
        self.assertEqual(res.results[1].attribute, "id")
        self.assertEqual(res.deliveries, 2)
        self.assertEqual(sorted(r.ce("id") for r in sink.wait_for(2)), ["a", "c"])

    def test_malformed_protobuf_is_rejected_and_server_stays_up(self):
        raw = self.channel.unary_unary("/evmesh.v1.Broker/Publish",
                                       request_serializer=lambda b: b,
                                       response_deserializer=lambda b: b)
        with self.assertRaises(grpc.RpcError) as e:
            raw(b"\x0a\xff\xff\xff\xff\x0f garbage", timeout=5)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("malformed PublishRequest: event (field 1)", e.exception.details())
        self.publish(self.event())  # still serving (more cases: test_grpc_protocol.py)

    def test_oversized_message_is_resource_exhausted(self):
        with self.assertRaises(grpc.RpcError) as e:
            self.publish(self.event(data=b"x" * (5 << 20)))
        self.assertEqual(e.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.publish(self.event())

    def test_health_service_reports_serving(self):
        check = self.channel.unary_unary("/grpc.health.v1.Health/Check",
                                         request_serializer=lambda b: b,
                                         response_deserializer=lambda b: b)
        self.assertEqual(check(b"", timeout=5), b"\x08\x01")  # status: SERVING

    def test_backpressure_is_resource_exhausted(self):
        sink = self.make_sink(default=Reply(200, delay=0.5))  # slow: the queue stays full
        self.subscribe(sink.url, delivery={"queuecapacity": 1})
        codes = []
        for i in range(50):
            try:
                self.publish(self.event(id=str(i)))
            except grpc.RpcError as e:
                codes.append(e.code())
        self.assertIn(grpc.StatusCode.RESOURCE_EXHAUSTED, codes)


class SubscribeTest(GrpcTestCase):
    def wait_subscribed(self, sub_id):
        wait_until(lambda: self.daemon.request("GET", f"/subscriptions/{sub_id}").status == 200,
                   10, what=f"subscription {sub_id}")

    def test_http_to_grpc_keeps_every_attribute(self):
        send, call = self.open_stream(filters='[{"prefix":{"type":"com.example."}}]', group="t1")
        reader = StreamReader(call)
        self.wait_subscribed("grpc-t1")
        res = self.publish_binary(b"\x00\x01binary", id="h1", type="com.example.h",
                                  content_type="application/octet-stream", subject="s/1",
                                  time="2024-05-01T10:00:00.25Z", ext1="v1")
        self.assertEqual(res.status, 202, res)
        msg = reader.take(1)[0]
        ev = msg.event
        self.assertEqual((ev.id, ev.source, ev.spec_version, ev.type),
                         ("h1", "/it", "1.0", "com.example.h"))
        self.assertEqual(ev.attributes["subject"].ce_string, "s/1")
        self.assertEqual(ev.attributes["ext1"].ce_string, "v1")
        self.assertEqual(ev.attributes["datacontenttype"].ce_string, "application/octet-stream")
        ts = ev.attributes["time"].ce_timestamp
        self.assertEqual((ts.seconds, ts.nanos), (1714557600, 250000000))
        self.assertEqual(ev.binary_data, b"\x00\x01binary")
        self.assertEqual(msg.subscription_id, "grpc-t1")
        self.ack(send, msg.delivery_id)

    def test_credit_stops_a_client_that_never_acks(self):
        send, call = self.open_stream(group="slow", max_in_flight=3)
        reader = StreamReader(call)
        self.wait_subscribed("grpc-slow")
        for i in range(10):
            self.publish(self.event(id=str(i)))
        got = reader.take(3)
        self.assertEqual([m.event.id for m in got], ["0", "1", "2"])
        reader.nothing_within(0.5)
        self.ack(send, got[0].delivery_id)
        self.assertEqual(reader.take(1)[0].event.id, "3")
        reader.nothing_within(0.3)

    def test_consumer_group_shares_and_other_groups_get_everything(self):
        send_a, call_a = self.open_stream(group="workers", max_in_flight=100)
        send_b, call_b = self.open_stream(group="workers", max_in_flight=100)
        send_c, call_c = self.open_stream(group="audit", max_in_flight=100)
        ra, rb, rc = StreamReader(call_a), StreamReader(call_b), StreamReader(call_c)
        self.wait_subscribed("grpc-workers")
        self.wait_subscribed("grpc-audit")
        time.sleep(0.2)  # both members joined
        for i in range(10):
            self.publish(self.event(id=str(i)))
        audit = rc.take(10)
        self.assertEqual(sorted(int(m.event.id) for m in audit), list(range(10)))
        got_a, got_b = [], []
        deadline = time.time() + 10
        while len(got_a) + len(got_b) < 10 and time.time() < deadline:
            for reader, got in ((ra, got_a), (rb, got_b)):
                while not reader.queue.empty():
                    got.append(reader.queue.get())
            time.sleep(0.02)
        ids = sorted(int(m.event.id) for m in got_a + got_b)
        self.assertEqual(ids, list(range(10)))  # each to exactly one member
        self.assertTrue(got_a and got_b, "both members got a share")

    def test_unacked_events_go_to_another_member_when_a_stream_dies(self):
        send_a, call_a = self.open_stream(group="ha", max_in_flight=5)
        ra = StreamReader(call_a)
        self.wait_subscribed("grpc-ha")
        for i in range(3):
            self.publish(self.event(id=str(i)))
        ra.take(3)  # never acked
        send_b, call_b = self.open_stream(group="ha", max_in_flight=5)
        rb = StreamReader(call_b)
        time.sleep(0.2)
        call_a.cancel()
        got = rb.take(3)
        self.assertEqual(sorted(m.event.id for m in got), ["0", "1", "2"])

    def test_named_subscription_keeps_events_until_a_member_comes_back(self):
        res = self.daemon.request("PUT", "/subscriptions/orders",
                                  {"sink": "grpc-group:orders", "protocol": "GRPC",
                                   "delivery": {"concurrency": 16}})
        self.assertEqual(res.status, 201, res)
        self.publish(self.event(id="early"))
        send, call = self.open_stream(subscription_id="orders", max_in_flight=5)
        reader = StreamReader(call)
        msg = reader.take(1)[0]
        self.assertEqual(msg.event.id, "early")
        call.cancel()  # not acked: kept for the next member
        time.sleep(0.3)
        send2, call2 = self.open_stream(subscription_id="orders")
        again = StreamReader(call2).take(1)[0]
        self.assertEqual(again.event.id, "early")
        self.ack(send2, again.delivery_id)

    def test_bad_start_is_invalid_argument(self):
        send, call = self.open_stream(filters='[{"nope":{}}]')
        reader = StreamReader(call)
        reader.thread.join(5)
        self.assertEqual(reader.error.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("filters[0]", reader.error.details())
        send, call = self.open_stream(subscription_id="missing")
        reader = StreamReader(call)
        reader.thread.join(5)
        self.assertEqual(reader.error.code(), grpc.StatusCode.NOT_FOUND)

    def test_subscription_api_over_grpc(self):
        sink = self.make_sink()
        created = self.stub.CreateSubscription(self.pb.SubscriptionRequest(
            json=json.dumps({"sink": sink.url, "types": ["com.example.test"]})), timeout=5)
        sub = json.loads(created.json)
        listed = self.stub.ListSubscriptions(self.pb.ListSubscriptionsRequest(), timeout=5)
        self.assertIn(sub["id"], [json.loads(j)["id"] for j in listed.json])
        self.publish(self.event(id="x"))
        self.assertEqual(sink.wait_for(1)[0].ce("id"), "x")
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.UpdateSubscription(self.pb.SubscriptionRequest(
                id=sub["id"], json=json.dumps({"sink": sink.url, "delivery": {"maxattempts": 0}})),
                timeout=5)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("delivery.maxattempts", e.exception.details())
        self.stub.DeleteSubscription(self.pb.SubscriptionRequest(id=sub["id"]), timeout=5)
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.GetSubscription(self.pb.SubscriptionRequest(id=sub["id"]), timeout=5)
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_sigterm_ends_streams_with_unavailable(self):
        send, call = self.open_stream(group="bye")
        reader = StreamReader(call)
        self.wait_subscribed("grpc-bye")
        self.daemon.stop()
        reader.thread.join(10)
        self.assertEqual(reader.error.code(), grpc.StatusCode.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main()
