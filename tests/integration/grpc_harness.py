"""gRPC helpers for the integration tests: stubs generated from proto/ at test time
(protoc + grpc_python_plugin from protobuf-compiler-grpc, or grpc_tools when present)
into a temporary directory, and a test case that starts evmeshd with its gRPC listener.
"""

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import EvmeshTestCase, wait_until

try:
    import grpc
except ImportError:  # pragma: no cover
    grpc = None

SOURCE_DIR = os.environ.get("EVMESH_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
PROTO_DIR = os.path.join(SOURCE_DIR, "proto")
PROTOS = ["cloudevents/v1/cloudevents.proto", "evmesh/v1/broker.proto"]
GRPC_LISTENING = re.compile(r"grpc listening on 127\.0\.0\.1:(\d+)")

_generated = None


def stubs():
    """(broker_pb2, broker_pb2_grpc, cloudevents_pb2), generated once per process."""
    global _generated
    if _generated:
        return _generated
    if grpc is None:
        raise unittest.SkipTest("python3-grpcio is not installed")
    out = tempfile.mkdtemp(prefix="evmesh-grpc-stubs-")
    atexit.register(shutil.rmtree, out, True)
    try:
        import grpc_tools  # noqa: F401
        cmd = [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_DIR}",
               f"--python_out={out}", f"--grpc_python_out={out}"] + PROTOS
    except ImportError:
        protoc, plugin = shutil.which("protoc"), shutil.which("grpc_python_plugin")
        if not protoc or not plugin:
            raise unittest.SkipTest("protoc or grpc_python_plugin not found (protobuf-compiler-grpc)")
        cmd = [protoc, f"-I{PROTO_DIR}", "-I/usr/include", f"--python_out={out}",
               f"--grpc_python_out={out}", f"--plugin=protoc-gen-grpc_python={plugin}"] + PROTOS
    subprocess.run(cmd, check=True, cwd=PROTO_DIR)
    sys.path.insert(0, out)
    from evmesh.v1 import broker_pb2, broker_pb2_grpc
    from cloudevents.v1 import cloudevents_pb2
    _generated = (broker_pb2, broker_pb2_grpc, cloudevents_pb2)
    return _generated


class GrpcTestCase(EvmeshTestCase):
    grpc_sets = ("grpc.enabled=true", "grpc.host=127.0.0.1", "grpc.port=0")

    def setUp(self):
        self.pb, self.pb_grpc, self.ce = stubs()
        self.start_daemon = False
        super().setUp()
        self.daemon = self.start_evmeshd(self.config, tuple(self.sets) + self.grpc_sets)
        self.grpc_port = wait_until(lambda: self._grpc_port(), 10, what="grpc listening")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}")
        self.addCleanup(self.channel.close)
        self.stub = self.pb_grpc.BrokerStub(self.channel)

    def _grpc_port(self):
        m = GRPC_LISTENING.search(self.daemon.output())
        return int(m.group(1)) if m else None

    def event(self, id="1", type="com.example.test", source="/it", text=None, data=None, **attrs):
        ev = self.ce.CloudEvent(id=id, source=source, spec_version="1.0", type=type)
        for name, value in attrs.items():
            v = ev.attributes[name]
            if isinstance(value, bool):
                v.ce_boolean = value
            elif isinstance(value, int):
                v.ce_integer = value
            elif isinstance(value, bytes):
                v.ce_bytes = value
            else:
                v.ce_string = value
        if text is not None:
            ev.text_data = text
        if data is not None:
            ev.binary_data = data
        return ev

    def publish(self, ev, timeout=5):
        return self.stub.Publish(self.pb.PublishRequest(event=ev), timeout=timeout)

    def open_stream(self, filters="", group="", max_in_flight=0, subscription_id="", timeout=None):
        """A Subscribe stream: returns (send(request), responses iterator, call)."""
        import queue
        outbox = queue.Queue()
        outbox.put(self.pb.SubscribeRequest(start=self.pb.SubscribeStart(
            filters=filters, group=group, max_in_flight=max_in_flight,
            subscription_id=subscription_id)))

        def requests():
            while True:
                item = outbox.get()
                if item is None:
                    return
                yield item

        call = self.stub.Subscribe(requests(), timeout=timeout)
        self.addCleanup(call.cancel)
        self.addCleanup(outbox.put, None)
        return outbox.put, call

    def raw_unary(self, method, channel=None):
        """A unary call that sends and returns raw bytes (no stubs, no checks)."""
        return (channel or self.channel).unary_unary(method, request_serializer=lambda b: b,
                                                     response_deserializer=lambda b: b)

    def ack(self, send, *ids):
        send(self.pb.SubscribeRequest(ack=self.pb.Ack(delivery_ids=list(ids))))


class StreamReader:
    """Drains a Subscribe call on a thread so tests can read with timeouts."""

    def __init__(self, call):
        import queue
        import threading
        self.queue = queue.Queue()
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self.thread.start()

    def _run(self, call):
        try:
            for msg in call:
                self.queue.put(msg)
        except grpc.RpcError as e:
            self.error = e
        self.queue.put(None)

    def take(self, n, timeout=10.0):
        import queue
        out = []
        for _ in range(n):
            try:
                msg = self.queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"got {len(out)} of {n} events within {timeout}s")
            if msg is None:
                raise AssertionError(f"stream ended after {len(out)} of {n} events: {self.error}")
            out.append(msg)
        return out

    def nothing_within(self, seconds):
        import queue
        try:
            msg = self.queue.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected message: {msg}")
