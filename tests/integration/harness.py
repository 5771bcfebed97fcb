"""Integration test harness: the real evmeshd, real HTTP peers, loopback only.

- Daemon: starts $EVMESHD with a temporary YAML config and `--set http.port=0`, reads
  the bound port from the `listening on 127.0.0.1:<port>` log line, waits for /readyz,
  and stops it by PID (SIGTERM, then SIGKILL after a timeout).
- Sink: a threaded http.server on a free loopback port that records every request and
  answers from a script (status, delay, extra headers such as Retry-After).
- request() / post_urllib() / curl(): one HTTP exchange with http.client, with
  urllib.request, or with the real curl binary; none raises on 4xx/5xx.
- EvmeshTestCase: a unittest.TestCase that owns a daemon and sinks and cleans them up,
  with helpers for publishing and for asserting problem responses.

Python 3 standard library only (run by /usr/bin/python3).
"""

import http.client
import http.server
import json
import os
import re
import signal
import socketserver
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")


def built_binary(name, env_var):
    """The path of one of our executables: $env_var, else build/src/<name>."""
    path = os.environ.get(env_var)
    if not path:
        source = os.environ.get("EVMESH_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
        path = os.path.join(source, "build", "src", name)
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest(f"{name} not found at {path} (set {env_var})")
    return path


def evmeshd_path():
    return built_binary("evmeshd", "EVMESHD")


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# --------------------------------------------------------------------------- HTTP client

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value (last one wins)
        self.body = body        # bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"Response({self.status}, {self.headers}, {self.body[:500]!r})"


def request(base_url, method, path, body=None, headers=None, timeout=10.0):
    """One request on a fresh connection; never raises on an HTTP error status."""
    url = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        elif isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        data = res.read()
        return Response(res.status, {k.lower(): v for k, v in res.getheaders()}, data)
    finally:
        conn.close()


def post_urllib(url, body, headers=None, method="POST", timeout=10.0):
    """The same through urllib.request, the way a plain Python client would post."""
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return Response(res.status, {k.lower(): v for k, v in res.getheaders()}, res.read())
    except urllib.error.HTTPError as e:
        with e:
            return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


def curl(args, timeout=30.0):
    """Runs the real curl; returns Response (headers of the final response)."""
    with tempfile.TemporaryDirectory() as tmp:
        head = os.path.join(tmp, "head")
        body = os.path.join(tmp, "body")
        proc = subprocess.run(
            ["curl", "-sS", "--max-time", str(timeout), "-D", head, "-o", body,
             "-w", "%{http_code}"] + list(args),
            capture_output=True, timeout=timeout + 5)
        if proc.returncode != 0:
            raise AssertionError(f"curl failed ({proc.returncode}): {proc.stderr.decode()}")
        headers = {}
        with open(head, "rb") as f:
            for line in f.read().decode("latin-1").split("\r\n"):
                if line.startswith("HTTP/"):
                    headers = {}  # a 100 Continue block is followed by the final one
                elif ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
        with open(body, "rb") as f:
            data = f.read()
        return Response(int(proc.stdout.decode().strip() or 0), headers, data)


# --------------------------------------------------------------------------- daemon

def terminate(proc, timeout=10):
    """SIGTERM a child process we started and reap it; SIGKILL if it hangs."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Daemon:
    """One evmeshd process. Output (stdout + stderr) is collected in memory."""

    def __init__(self, config="", sets=(), log_level="debug", extra_args=(), env=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="evmesh-it-")
        self.config_path = os.path.join(self.tmp.name, "evmesh.yaml")
        with open(self.config_path, "w") as f:
            f.write(config)
        self.args = [evmeshd_path(), "--config", self.config_path,
                     "--set", "http.host=127.0.0.1", "--set", "http.port=0",
                     "--set", "grpc.host=127.0.0.1", "--set", "grpc.port=0",
                     "--set", f"log.level={log_level}"]
        for s in sets:
            self.args += ["--set", s]
        self.args += list(extra_args)
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.port = None
        self.lines = []
        self.lock = threading.Lock()
        self.readers = []

    # -- process

    def spawn(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env)
        t = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        t.start()
        self.readers.append(t)
        return self

    def start(self, timeout=15.0):
        self.spawn()

        def port():
            if self.proc.poll() is not None:
                raise AssertionError(f"evmeshd exited with {self.proc.returncode}:\n{self.output()}")
            m = LISTENING.search(self.output())
            return int(m.group(1)) if m else None

        self.port = wait_until(port, timeout, what="the listening log line")
        wait_until(lambda: self._ready(), timeout, what="/readyz")
        return self

    def _ready(self):
        try:
            return request(self.url, "GET", "/readyz", timeout=1).status == 200
        except OSError:
            return False

    def _read(self, stream):
        for raw in iter(stream.readline, b""):
            with self.lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
        stream.close()

    def output(self):
        with self.lock:
            return "\n".join(self.lines)

    def wait_for_log(self, pattern, timeout=10.0):
        rx = re.compile(pattern)
        return wait_until(lambda: rx.search(self.output()), timeout, what=f"log /{pattern}/")

    def signal(self, signo=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signo)

    def wait(self, timeout=20.0):
        """Waits for exit; SIGKILL after timeout. Returns the exit code."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"evmeshd did not exit within {timeout}s; killed\n{self.output()}")
        for t in self.readers:
            t.join(2)
        return code

    def stop(self, timeout=20.0):
        """SIGTERM, then SIGKILL after `timeout`. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def close(self):
        """Cleanup: never raises, always leaves no process behind."""
        terminate(self.proc)
        self.tmp.cleanup()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, headers=None, timeout=10.0):
        return request(self.url, method, path, body, headers, timeout)


# --------------------------------------------------------------------------- sink

class Recorded:
    def __init__(self, method, path, headers, body, when):
        self.method = method
        self.path = path
        self.headers = headers  # lower-case name -> value
        self.body = body
        self.when = when        # time.monotonic() at arrival

    def ce(self, name):
        return self.headers.get("ce-" + name)

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"Recorded({self.method} {self.path} {self.headers} {self.body[:200]!r})"


class Reply:
    def __init__(self, status=200, delay=0.0, headers=None, body=b""):
        self.status, self.delay, self.headers, self.body = status, delay, headers or {}, body


class _ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Sink:
    """A webhook receiver. `script` replies are used in order, then `default`."""

    def __init__(self, default=None):
        self.default = default or Reply(200)
        self.script = []
        self.requests = []
        self.cond = threading.Condition()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rec = Recorded(self.command, self.path,
                               {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
                with sink.cond:
                    reply = sink.script.pop(0) if sink.script else sink.default
                if reply.delay:
                    time.sleep(reply.delay)
                with sink.cond:
                    sink.requests.append(rec)
                    sink.cond.notify_all()
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_POST = do_PUT = do_GET = _handle

        self.server = _ThreadingServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def replies(self, *replies):
        with self.cond:
            self.script.extend(replies)

    def wait_for(self, n, timeout=10.0):
        """Waits until at least n requests were answered; returns a copy of them."""
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.requests) >= n, timeout)
            got = list(self.requests)
        if not ok:
            raise AssertionError(f"sink got {len(got)} request(s), expected {n}: {got}")
        return got

    def count(self):
        with self.cond:
            return len(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------- events

def binary_headers(id="1", source="/it", type="com.example.test", content_type=None, **extra):
    h = {"ce-specversion": "1.0", "ce-id": id, "ce-source": source, "ce-type": type}
    for k, v in extra.items():
        h["ce-" + k] = v
    if content_type:
        h["Content-Type"] = content_type
    return h


def event(id="1", source="/it", type="com.example.test", **attrs):
    e = {"specversion": "1.0", "id": id, "source": source, "type": type}
    e.update(attrs)
    return e


class EvmeshTestCase(unittest.TestCase):
    """Owns one daemon and any sinks; everything is stopped in cleanup."""

    config = ""
    sets = ()
    start_daemon = True

    def setUp(self):
        self.daemon = None
        if self.start_daemon:
            self.daemon = self.start_evmeshd(self.config, self.sets)

    def start_evmeshd(self, config="", sets=(), **kw):
        d = Daemon(config, sets, **kw)
        self.addCleanup(d.close)
        self.addCleanup(self._dump_on_failure, d)
        d.start()
        return d

    def _dump_on_failure(self, d):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        failed = result is not None and any(
            t is self for t, _ in list(result.failures) + list(result.errors))
        if failed or os.environ.get("EVMESH_IT_VERBOSE"):
            print(f"\n----- evmeshd output ({self.id()}) -----\n{d.output()}\n-----")

    def make_sink(self, default=None):
        s = Sink(default)
        self.addCleanup(s.close)
        return s

    # -- API helpers

    def subscribe(self, sink_url, filters=None, delivery=None, daemon=None, **fields):
        body = {"sink": sink_url, "protocol": "HTTP"}
        if filters is not None:
            body["filters"] = filters
        if delivery is not None:
            body["delivery"] = delivery
        body.update(fields)
        res = (daemon or self.daemon).request("POST", "/subscriptions", body)
        self.assertEqual(res.status, 201, res)
        return res.json()

    def publish_binary(self, data=b"", daemon=None, **kw):
        return (daemon or self.daemon).request("POST", "/", data, binary_headers(**kw))

    def publish_structured(self, ev, daemon=None):
        return (daemon or self.daemon).request(
            "POST", "/", json.dumps(ev).encode(), {"Content-Type": "application/cloudevents+json"})

    def publish_batch(self, events, daemon=None):
        return (daemon or self.daemon).request(
            "POST", "/", json.dumps(events).encode(),
            {"Content-Type": "application/cloudevents-batch+json"})

    def assertProblem(self, res, status, type=None, pointer=None, detail_contains=None,
                      pointer_prefix=None):
        self.assertEqual(res.status, status, res)
        self.assertTrue(res.headers.get("content-type", "").startswith("application/problem+json"), res)
        p = res.json()
        self.assertEqual(p["status"], status, p)
        self.assertTrue(p["type"].startswith("urn:evmesh:problem:"), p)
        self.assertIn("title", p)
        self.assertIn("detail", p)
        if type is not None:
            self.assertEqual(p["type"], "urn:evmesh:problem:" + type, p)
        if pointer is not None:
            self.assertEqual(p.get("pointer"), pointer, p)
        if pointer_prefix is not None:
            self.assertTrue(str(p.get("pointer", "")).startswith(pointer_prefix), p)
        if detail_contains is not None:
            self.assertIn(detail_contains, p["detail"], p)
        return p

    def assertNoDelivery(self, sink, wait=0.5):
        time.sleep(wait)
        self.assertEqual(sink.count(), 0, sink.requests)
