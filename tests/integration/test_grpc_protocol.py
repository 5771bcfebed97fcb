"""The gRPC listener as a gRPC server, checked with independent clients: malformed
protobuf on every kind of method, server reflection (list the service, fetch its
file descriptor, call it from the fetched descriptors alone), the standard health
service, keepalive enforced on a raw HTTP/2 connection that never answers pings, and a Subscribe stream's
deadline."""

import socket
import struct
import threading
import time
import unittest

import reflection_client
from grpc_harness import GrpcTestCase, StreamReader, grpc
from harness import wait_until

SERVING, NOT_SERVING = b"\x08\x01", b"\x08\x02"


def health_request(service):
    name = service.encode()
    return b"\x0a" + bytes([len(name)]) + name if name else b""


class MalformedProtobufTest(GrpcTestCase):
    def test_unary_methods_answer_invalid_argument_naming_the_field(self):
        cases = [
            ("/evmesh.v1.Broker/Publish", b"\x0a\xff\xff\xff\xff\x0f garbage",
             "malformed PublishRequest: event (field 1) at byte 0: length 4294967295 runs past "
             "the end of the message (8 bytes left)"),
            ("/evmesh.v1.Broker/PublishBatch", b"\x0a\x03\x0a\x01\x80",
             "malformed PublishBatchRequest: batch.events: truncated field tag at byte 4"),
            ("/evmesh.v1.Broker/CreateSubscription", b"\x12\x02\xc3\x28",
             "malformed SubscriptionRequest: json (field 2): not valid UTF-8"),
            ("/evmesh.v1.Broker/GetSubscription", b"\x00",
             "malformed SubscriptionRequest: field 0 at byte 0: field number 0 is not allowed"),
        ]
        for method, body, message in cases:
            with self.subTest(method=method):
                with self.assertRaises(grpc.RpcError) as e:
                    self.raw_unary(method)(body, timeout=5)
                self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
                self.assertEqual(e.exception.details(), message)
        self.publish(self.event())  # still serving

    def test_subscribe_stream_ends_with_invalid_argument(self):
        raw = self.channel.stream_stream("/evmesh.v1.Broker/Subscribe",
                                         request_serializer=lambda b: b,
                                         response_deserializer=lambda b: b)
        with self.assertRaises(grpc.RpcError) as e:
            list(raw(iter([b"\x0a\x02\x0a\x05"]), timeout=5))
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("malformed SubscribeRequest: start.filters (field 1) at byte 2: length 5 runs "
                      "past the end", e.exception.details())


class ReflectionTest(GrpcTestCase):
    def test_lists_the_service_and_serves_its_descriptor(self):
        Req = reflection_client.Request
        listed, files = reflection_client.ask(
            self.channel, Req(list_services=""), Req(file_containing_symbol="evmesh.v1.Broker"))
        names = {s.name for s in listed.list_services_response.service}
        self.assertLessEqual({"evmesh.v1.Broker", "grpc.health.v1.Health",
                              "grpc.reflection.v1alpha.ServerReflection"}, names)
        pool, protos = reflection_client.pool_from(
            files.file_descriptor_response.file_descriptor_proto)
        self.assertIn("evmesh/v1/broker.proto", [f.name for f in protos])
        self.assertIn("cloudevents/v1/cloudevents.proto", [f.name for f in protos])
        service = pool.FindServiceByName("evmesh.v1.Broker")
        stream = service.methods_by_name["PublishStream"]
        self.assertEqual(stream.input_type.full_name, "evmesh.v1.PublishStreamRequest")

        # Call Publish knowing only what reflection said, as grpcurl would.
        sink = self.make_sink()
        self.subscribe(sink.url)
        publish = service.methods_by_name["Publish"]
        Request = reflection_client.message_class(pool, publish.input_type.full_name)
        Response = reflection_client.message_class(pool, publish.output_type.full_name)
        request = Request()
        request.event.id, request.event.source = "via-reflection", "/reflection"
        request.event.spec_version, request.event.type = "1.0", "com.example.reflected"
        call = self.channel.unary_unary("/evmesh.v1.Broker/Publish",
                                        request_serializer=Request.SerializeToString,
                                        response_deserializer=Response.FromString)
        self.assertEqual(call(request, timeout=5).deliveries, 1)
        self.assertEqual(sink.wait_for(1)[0].ce("id"), "via-reflection")

    def test_unknown_symbol_is_an_error_response(self):
        (res,) = reflection_client.ask(
            self.channel, reflection_client.Request(file_containing_symbol="no.such.Service"))
        self.assertEqual(res.error_response.error_code, grpc.StatusCode.NOT_FOUND.value[0])


class HealthTest(GrpcTestCase):
    CHECK = "/grpc.health.v1.Health/Check"

    def test_check_by_server_and_by_service(self):
        check = self.raw_unary(self.CHECK)
        self.assertEqual(check(health_request(""), timeout=5), SERVING)
        self.assertEqual(check(health_request("evmesh.v1.Broker"), timeout=5), SERVING)
        with self.assertRaises(grpc.RpcError) as e:
            check(health_request("no.such.Service"), timeout=5)
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)

    def test_watch_sees_not_serving_when_shutdown_begins(self):
        watch = self.channel.unary_stream("/grpc.health.v1.Health/Watch",
                                          request_serializer=lambda b: b,
                                          response_deserializer=lambda b: b)
        responses = watch(health_request("evmesh.v1.Broker"), timeout=20)
        self.assertEqual(next(responses), SERVING)
        stopper = threading.Thread(target=self.daemon.stop)
        stopper.start()
        self.addCleanup(stopper.join)
        self.assertEqual(next(responses), NOT_SERVING)


class KeepaliveTest(GrpcTestCase):
    sets = ("grpc.keepalive_time=200ms", "grpc.keepalive_timeout=300ms")

    def test_connection_that_never_answers_pings_is_closed(self):
        frames = []
        with socket.create_connection(("127.0.0.1", self.grpc_port), timeout=5) as s:
            s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
            started, buf = time.monotonic(), b""
            while True:  # read frames until the server closes; answer SETTINGS, never PING
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
                while len(buf) >= 9:
                    length = int.from_bytes(buf[:3], "big")
                    if len(buf) < 9 + length:
                        break
                    kind, flags = buf[3], buf[4]
                    frames.append((kind, flags, round(time.monotonic() - started, 2)))
                    if kind == 4 and not flags & 1:
                        s.sendall(b"\x00\x00\x00\x04\x01\x00\x00\x00\x00")  # SETTINGS ack
                    buf = buf[9 + length:]
            closed_after = time.monotonic() - started
        pings = [f for f in frames if f[0] == 6 and not f[1] & 1]
        self.assertTrue(pings, f"no PING from the server: {frames}")
        # Closed once the ping went unanswered for keepalive_timeout, not before.
        self.assertGreaterEqual(closed_after, pings[0][2] + 0.25, frames)
        self.assertLess(closed_after, 4.0, frames)


class SubscribeDeadlineTest(GrpcTestCase):
    def test_events_of_a_stream_whose_deadline_passes_go_to_another_member(self):
        send_a, call_a = self.open_stream(group="dl", max_in_flight=5, timeout=1.5)
        reader_a = StreamReader(call_a)
        wait_until(lambda: self.daemon.request("GET", "/subscriptions/grpc-dl").status == 200, 10,
                   what="subscription grpc-dl")
        for i in range(3):
            self.publish(self.event(id=str(i)))
        reader_a.take(3)  # never acked
        send_b, call_b = self.open_stream(group="dl", max_in_flight=5)
        reader_b = StreamReader(call_b)
        got = reader_b.take(3, timeout=10)
        self.assertEqual(sorted(m.event.id for m in got), ["0", "1", "2"])
        reader_a.thread.join(5)
        self.assertEqual(reader_a.error.code(), grpc.StatusCode.DEADLINE_EXCEEDED)


if __name__ == "__main__":
    unittest.main()
