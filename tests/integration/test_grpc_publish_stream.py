"""PublishStream (client-streaming publish) and publish backpressure over gRPC:
counts and per-event failures, a malformed message mid-stream, a full queue holding
the stream (flow control) then RESOURCE_EXHAUSTED, a deadline passing while a publish
waits for queue space, oversized stream messages."""

import time
import unittest

from grpc_harness import GrpcTestCase, grpc
from harness import Reply


def processed(error):
    return dict(error.trailing_metadata() or ()).get("evmesh-processed")


class PublishStreamTest(GrpcTestCase):
    def stream_request(self, **kw):
        return self.pb.PublishStreamRequest(**kw)

    def test_events_and_batches_reach_subscribers_and_invalid_ones_are_listed(self):
        sink = self.make_sink()
        self.subscribe(sink.url)
        requests = [self.stream_request(event=self.event(id=f"e{i}")) for i in range(50)]
        batch = [self.event(id=f"b{i}") for i in range(10)]
        batch[5].source = ""  # stream index 55
        requests.append(self.stream_request(batch=self.ce.CloudEventBatch(events=batch)))
        res = self.stub.PublishStream(iter(requests), timeout=10)
        self.assertEqual((res.published, res.rejected, res.deliveries), (59, 1, 59))
        self.assertEqual(len(res.failures), 1)
        failure = res.failures[0]
        self.assertEqual((failure.index, failure.attribute), (55, "source"))
        self.assertEqual(failure.code, grpc.StatusCode.INVALID_ARGUMENT.value[0])
        self.assertIn("source", failure.message)
        got = sorted(r.ce("id") for r in sink.wait_for(59))
        self.assertEqual(got, sorted([f"e{i}" for i in range(50)] + [f"b{i}" for i in range(10) if i != 5]))

    def test_docs_example_runs(self):
        from test_docs_examples import fenced_block_after, read_doc
        code = fenced_block_after(read_doc("docs/grpc.md"), "### Streaming publish", "python")
        printed = []
        events = [self.event(id="d1"), self.event(id="")]
        exec(code, {"stub": self.stub, "broker_pb2": self.pb, "events": events,
                    "print": lambda *a: printed.append(a)})
        self.assertEqual(printed, [(1, 1, [(1, "required attribute 'id' is missing or empty")])])

    def test_empty_stream_is_ok(self):
        res = self.stub.PublishStream(iter(()), timeout=5)
        self.assertEqual((res.published, res.rejected), (0, 0))

    def test_malformed_message_ends_the_stream_naming_what_is_wrong(self):
        raw = self.channel.stream_unary("/evmesh.v1.Broker/PublishStream",
                                        request_serializer=lambda b: b,
                                        response_deserializer=lambda b: b)
        good = self.stream_request(event=self.event(id="ok")).SerializeToString()
        bad = b"\x0a\x05\x12\x03\xff\xfe\xfd"  # event.source: not UTF-8
        with self.assertRaises(grpc.RpcError) as e:
            raw(iter([good, bad, good]), timeout=5)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("malformed PublishStreamRequest: event.source (field 2): not valid UTF-8",
                      e.exception.details())
        self.assertEqual(processed(e.exception), "1")


class StreamBackpressureTest(GrpcTestCase):
    sets = ("grpc.publish_wait=300ms",)

    def test_full_queue_holds_the_stream_then_fails_with_resource_exhausted(self):
        sink = self.make_sink(default=Reply(200, delay=1.0))
        self.subscribe(sink.url, delivery={"queuecapacity": 1})
        requests = [self.stream_request(event=self.event(id=str(i))) for i in range(10)]
        started = time.monotonic()
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.PublishStream(iter(requests), timeout=10)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)  # it waited for space
        self.assertEqual(e.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("waited grpc.publish_wait = 300 ms", e.exception.details())
        n = int(processed(e.exception))
        self.assertTrue(1 <= n < 10, n)
        # Exactly the events handled before the failure are delivered, nothing after.
        got = sink.wait_for(n, timeout=10)
        time.sleep(1.5)
        self.assertEqual(sorted(int(r.ce("id")) for r in sink.wait_for(0)), list(range(n)))
        self.assertEqual(len(got), n)

    stream_request = PublishStreamTest.stream_request


class WaitForSpaceTest(GrpcTestCase):
    sets = ("grpc.publish_wait=10s",)

    def test_stream_waits_for_space_then_publishes_everything(self):
        sink = self.make_sink(default=Reply(200, delay=0.15))
        self.subscribe(sink.url, delivery={"queuecapacity": 1})
        requests = [self.pb.PublishStreamRequest(event=self.event(id=str(i))) for i in range(6)]
        started = time.monotonic()
        res = self.stub.PublishStream(iter(requests), timeout=20)
        self.assertEqual(res.published, 6)
        self.assertGreaterEqual(time.monotonic() - started, 0.4)  # held back by the slow sink
        self.assertEqual(sorted(int(r.ce("id")) for r in sink.wait_for(6)), list(range(6)))

    def test_deadline_passing_while_waiting_is_deadline_exceeded_and_nothing_lands(self):
        sink = self.make_sink(default=Reply(200, delay=1.0))
        self.subscribe(sink.url, delivery={"queuecapacity": 1})
        self.publish(self.event(id="a"))
        accepted = ["a"]
        for i in range(3):  # fill the queue behind the one in flight
            try:
                self.publish(self.event(id=f"f{i}"), timeout=0.2)
                accepted.append(f"f{i}")
            except grpc.RpcError as e:
                self.assertEqual(e.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        with self.assertRaises(grpc.RpcError) as e:
            self.publish(self.event(id="late"), timeout=0.3)
        self.assertEqual(e.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        sink.wait_for(len(accepted), timeout=10)
        time.sleep(1.5)  # the queue has room again: a forgotten retry would land now
        self.assertEqual(sorted(r.ce("id") for r in sink.wait_for(0)), sorted(accepted))


class StreamLimitsTest(GrpcTestCase):
    sets = ("grpc.max_message_bytes=64KiB",)

    def test_oversized_stream_message_is_resource_exhausted(self):
        requests = [self.pb.PublishStreamRequest(event=self.event(id="small")),
                    self.pb.PublishStreamRequest(event=self.event(id="big", data=b"x" * (100 << 10)))]
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.PublishStream(iter(requests), timeout=5)
        self.assertEqual(e.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.publish(self.event(id="after"))  # still serving


if __name__ == "__main__":
    unittest.main()
