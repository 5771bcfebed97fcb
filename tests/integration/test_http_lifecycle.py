"""Process and connection lifecycle: SIGTERM drain, bad config, connection limits
and timeouts, stop_accepting semantics."""

import json
import re
import signal
import socket
import time
import unittest

from harness import Daemon, EvmeshTestCase, Reply, binary_headers, event, wait_until


def raw_connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def read_until_closed(s, timeout=10.0):
    """Reads everything until the peer closes; returns the bytes."""
    s.settimeout(timeout)
    chunks = []
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


def parse_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


class Drain(EvmeshTestCase):
    def test_sigterm_drains_in_flight_deliveries_and_exits_0(self):
        sink = self.make_sink(Reply(200, delay=0.4))
        self.subscribe(sink.url, delivery={"concurrency": 1})
        events = [event(id=f"t-{i}", data=f"d{i}") for i in range(5)]
        self.assertEqual(self.publish_batch(events).status, 202)
        self.daemon.signal(signal.SIGTERM)
        code = self.daemon.wait(30)
        self.assertEqual(code, 0, self.daemon.output())
        self.assertEqual([r.ce("id") for r in sink.requests], [f"t-{i}" for i in range(5)])
        # Nothing listens any more.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.daemon.port), timeout=1).close()

    def test_request_in_progress_is_answered_with_connection_close(self):
        sink = self.make_sink(Reply(200, delay=1.0))
        self.subscribe(sink.url)
        self.assertEqual(self.publish_binary(b"", id="keeps-it-busy").status, 202)
        s = raw_connect(self.daemon.port)
        try:
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: it\r\n")  # header not finished yet
            time.sleep(0.2)
            self.daemon.signal(signal.SIGTERM)
            self.daemon.wait_for_log(r"stopped accepting")
            s.sendall(b"\r\n")
            status, headers, body = parse_response(read_until_closed(s))
            self.assertEqual(status, 503)
            self.assertEqual(headers.get("connection"), "close")
            self.assertEqual(json.loads(body)["type"], "urn:evmesh:problem:shutting-down")
        finally:
            s.close()
        self.assertEqual(self.daemon.wait(30), 0)
        self.assertEqual(sink.count(), 1)

    def test_idle_keep_alive_connection_is_closed_on_sigterm(self):
        sink = self.make_sink(Reply(200, delay=3.0))  # the drain lasts ~3s
        self.subscribe(sink.url)
        s = raw_connect(self.daemon.port)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: it\r\n\r\n")
            first = s.recv(65536)
            self.assertIn(b"200 OK", first)
            self.assertEqual(self.publish_binary(b"", id="busy").status, 202)
            self.daemon.signal(signal.SIGTERM)
            t0 = time.monotonic()
            self.assertEqual(read_until_closed(s, timeout=5), b"")
            self.assertLess(time.monotonic() - t0, 2.5)  # closed before the ~3 s drain ended
        finally:
            s.close()
        self.assertEqual(self.daemon.wait(30), 0)


class BadConfig(EvmeshTestCase):
    start_daemon = False

    def run_config(self, text, sets=()):
        d = Daemon(text, sets)
        self.addCleanup(d.close)
        d.spawn()
        code = d.wait(15)
        return code, d

    def test_bad_value_names_file_line_and_key(self):
        code, d = self.run_config("http:\n  host: 127.0.0.1\n  max_connections: lots\n")
        self.assertNotEqual(code, 0, d.output())
        out = d.output()
        self.assertRegex(out, r"evmesh\.yaml:3\b")
        self.assertIn("max_connections", out)

    def test_unknown_key_is_refused(self):
        code, d = self.run_config("http:\n  prot: 8080\n")
        self.assertNotEqual(code, 0, d.output())
        self.assertRegex(d.output(), r"evmesh\.yaml:2\b")
        self.assertIn("prot", d.output())

    def test_bad_override_is_refused(self):
        code, d = self.run_config("", sets=("http.max_event_bytes=-5",))
        self.assertNotEqual(code, 0, d.output())
        self.assertIn("max_event_bytes", d.output())

    def test_port_in_use_fails_with_the_address(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            d = Daemon("")
            d.args[d.args.index("http.port=0")] = f"http.port={port}"
            self.addCleanup(d.close)
            d.spawn()
            code = d.wait(15)
        self.assertNotEqual(code, 0, d.output())
        self.assertIn(f"127.0.0.1:{port}", d.output())


class ConnectionLimits(EvmeshTestCase):
    sets = ("http.max_connections=2", "http.header_timeout=700ms", "http.idle_timeout=700ms",
            "http.body_timeout=700ms")

    def counted_connection(self):
        """A connection the server accepted and counts. Connections of the start-up
        readiness probes may still be counted for a moment after they closed: retry."""
        def attempt():
            s = raw_connect(self.daemon.port)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: it\r\n\r\n")
            if b"200 OK" in s.recv(65536):
                return s
            s.close()
            return None
        return wait_until(attempt, timeout=5, what="an accepted connection")

    def test_connection_over_the_limit_gets_503(self):
        a = self.counted_connection()
        b = self.counted_connection()
        try:
            res = self.daemon.request("GET", "/healthz")
            self.assertProblem(res, 503, "too-many-connections")
            self.assertEqual(res.headers.get("connection"), "close")
        finally:
            a.close()
            b.close()
        wait_until(lambda: self.daemon.request("GET", "/healthz").status == 200, timeout=5,
                   what="a free connection slot")

    def test_slow_header_is_cut_off(self):
        s = raw_connect(self.daemon.port)
        try:
            s.sendall(b"POST / HTTP/1.1\r\nHost: it\r\n")
            t0 = time.monotonic()
            self.assertEqual(read_until_closed(s, timeout=5), b"")
            self.assertLess(time.monotonic() - t0, 3.0)
        finally:
            s.close()

    def test_slow_body_is_cut_off(self):
        s = raw_connect(self.daemon.port)
        try:
            head = "".join(f"{k}: {v}\r\n" for k, v in binary_headers().items())
            s.sendall(("POST / HTTP/1.1\r\nHost: it\r\nContent-Length: 100\r\n" + head + "\r\nab").encode())
            t0 = time.monotonic()
            self.assertEqual(read_until_closed(s, timeout=5), b"")
            self.assertLess(time.monotonic() - t0, 3.0)
        finally:
            s.close()

    def test_idle_keep_alive_is_closed(self):
        s = raw_connect(self.daemon.port)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: it\r\n\r\n")
            self.assertIn(b"200 OK", s.recv(65536))
            t0 = time.monotonic()
            self.assertEqual(read_until_closed(s, timeout=5), b"")
            self.assertGreater(time.monotonic() - t0, 0.5)
            self.assertLess(time.monotonic() - t0, 3.0)
        finally:
            s.close()

    def test_pipelined_requests_are_answered_in_order(self):
        s = raw_connect(self.daemon.port)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: it\r\n\r\n"
                      b"GET /nope HTTP/1.1\r\nHost: it\r\n\r\n"
                      b"GET /readyz HTTP/1.1\r\nHost: it\r\nConnection: close\r\n\r\n")
            raw = read_until_closed(s)
            # Bodies are not CRLF-terminated: find each status line anywhere.
            statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", raw)]
            self.assertEqual(statuses, [200, 404, 200])
        finally:
            s.close()

    def test_garbage_request_is_400(self):
        s = raw_connect(self.daemon.port)
        try:
            s.sendall(b"HELLO THERE\r\n\r\n")
            raw = read_until_closed(s)
            status, headers, body = parse_response(raw)
            self.assertEqual(status, 400)
            self.assertEqual(json.loads(body)["type"], "urn:evmesh:problem:bad-request")
        finally:
            s.close()


if __name__ == "__main__":
    unittest.main()
