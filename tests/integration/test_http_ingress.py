"""POST / in the three modes, end to end to a webhook sink, and ingress errors."""

import base64
import http.client
import json
import os
import tempfile
import threading
import unittest

from harness import EvmeshTestCase, binary_headers, curl, event, post_urllib


class IngressDelivery(EvmeshTestCase):
    def test_binary_in_binary_out_keeps_data_and_attributes(self):
        sink = self.make_sink()
        self.subscribe(sink.url)
        data = bytes(range(256)) * 4  # not UTF-8, not JSON
        res = self.publish_binary(data, id="b-1", content_type="application/octet-stream",
                                  subject="photo 1.jpg", time="2024-05-01T12:00:00Z",
                                  myext="caf%C3%A9 100%25")
        self.assertEqual(res.status, 202, res)
        self.assertEqual(res.body, b"")
        got = sink.wait_for(1)[0]
        self.assertEqual(got.method, "POST")
        self.assertEqual(got.path, "/hook")
        self.assertEqual(got.body, data)
        self.assertEqual(got.ce("specversion"), "1.0")
        self.assertEqual(got.ce("id"), "b-1")
        self.assertEqual(got.ce("source"), "/it")
        self.assertEqual(got.ce("type"), "com.example.test")
        self.assertEqual(got.headers["content-type"], "application/octet-stream")
        self.assertEqual(got.ce("time"), "2024-05-01T12:00:00Z")
        # Percent-encoded on the wire; the same value comes out (encoding may differ
        # only in which characters are escaped, so compare decoded).
        from urllib.parse import unquote
        self.assertEqual(unquote(got.ce("subject")), "photo 1.jpg")
        self.assertEqual(unquote(got.ce("myext")), "café 100%")

    def test_structured_in_binary_out(self):
        sink = self.make_sink()
        self.subscribe(sink.url)
        ev = event(id="s-1", datacontenttype="application/json", data={"order": 42, "items": [1, 2]},
                   subject="orders")
        self.assertEqual(self.publish_structured(ev).status, 202)
        got = sink.wait_for(1)[0]
        self.assertEqual(got.ce("id"), "s-1")
        self.assertEqual(got.ce("subject"), "orders")
        self.assertTrue(got.headers["content-type"].startswith("application/json"))
        self.assertEqual(json.loads(got.body), {"order": 42, "items": [1, 2]})

    def test_binary_in_structured_out(self):
        sink = self.make_sink()
        self.subscribe(sink.url, delivery={"mode": "structured"})
        data = b"\x00\x01\xfe\xffbinary"
        res = self.publish_binary(data, id="x-1", content_type="application/octet-stream",
                                  myflag="true")
        self.assertEqual(res.status, 202, res)
        got = sink.wait_for(1)[0]
        self.assertTrue(got.headers["content-type"].startswith("application/cloudevents+json"), got)
        self.assertIsNone(got.ce("id"))  # attributes live in the body in structured mode
        body = got.json()
        self.assertEqual(body["id"], "x-1")
        self.assertEqual(body["specversion"], "1.0")
        self.assertEqual(body["source"], "/it")
        self.assertEqual(body["datacontenttype"], "application/octet-stream")
        self.assertEqual(body["myflag"], "true")
        self.assertEqual(base64.b64decode(body["data_base64"]), data)

    def test_structured_in_structured_out_round_trips(self):
        sink = self.make_sink()
        self.subscribe(sink.url, delivery={"mode": "structured"})
        ev = event(id="r-1", datacontenttype="application/json", data={"a": [1, "x", None]},
                   subject="s", time="2024-05-01T12:00:00Z", dataschema="https://example.com/s",
                   count=7, enabled=True)
        self.assertEqual(self.publish_structured(ev).status, 202)
        self.assertEqual(sink.wait_for(1)[0].json(), ev)

    def test_batch_delivers_each_event(self):
        sink = self.make_sink()
        self.subscribe(sink.url)
        events = [event(id=f"e-{i}", datacontenttype="text/plain", data=f"payload {i}") for i in range(5)]
        self.assertEqual(self.publish_batch(events).status, 202)
        got = sink.wait_for(5)
        self.assertEqual(sorted(r.ce("id") for r in got), [f"e-{i}" for i in range(5)])
        by_id = {r.ce("id"): r for r in got}
        self.assertEqual(by_id["e-3"].body, b"payload 3")
        # One subscription with concurrency 1 delivers in order.
        self.assertEqual([r.ce("id") for r in got], [f"e-{i}" for i in range(5)])

    def test_empty_batch_is_accepted(self):
        self.assertEqual(self.publish_batch([]).status, 202)

    def test_fan_out_to_every_matching_subscription(self):
        sinks = [self.make_sink() for _ in range(3)]
        for s in sinks:
            self.subscribe(s.url)
        self.assertEqual(self.publish_binary(b"hi", id="f-1", content_type="text/plain").status, 202)
        for s in sinks:
            got = s.wait_for(1)[0]
            self.assertEqual((got.ce("id"), got.body), ("f-1", b"hi"))

    def test_filters_route_by_content(self):
        orders, photos, others = self.make_sink(), self.make_sink(), self.make_sink()
        self.subscribe(orders.url, filters=[{"prefix": {"type": "com.example.order."}}])
        self.subscribe(photos.url, filters=[{"suffix": {"subject": ".jpg"}}])
        self.subscribe(others.url, types=["com.example.other"], source="/elsewhere")
        self.assertEqual(self.publish_binary(b"1", id="o", type="com.example.order.created").status, 202)
        self.assertEqual(self.publish_binary(b"2", id="p", subject="cat.jpg").status, 202)
        self.assertEqual(self.publish_binary(b"3", id="n", type="com.example.other").status, 202)
        self.assertEqual([r.ce("id") for r in orders.wait_for(1)], ["o"])
        self.assertEqual([r.ce("id") for r in photos.wait_for(1)], ["p"])
        self.assertNoDelivery(others)  # type matches, source does not
        self.assertEqual(orders.count(), 1)
        self.assertEqual(photos.count(), 1)

    def test_curl_publishes_in_each_mode(self):
        sink = self.make_sink()
        self.subscribe(sink.url)
        url = self.daemon.url + "/"
        res = curl(["-X", "POST", url, "-H", "ce-specversion: 1.0", "-H", "ce-id: c-1",
                    "-H", "ce-source: /curl", "-H", "ce-type: t", "-H", "Content-Type: text/plain",
                    "--data-binary", "from curl"])
        self.assertEqual(res.status, 202, res)
        res = curl(["-X", "POST", url, "-H", "Content-Type: application/cloudevents+json",
                    "--data-binary", json.dumps(event(id="c-2", data="x"))])
        self.assertEqual(res.status, 202, res)
        res = curl(["-X", "POST", url, "-H", "Content-Type: application/cloudevents-batch+json",
                    "--data-binary", json.dumps([event(id="c-3"), event(id="c-4")])])
        self.assertEqual(res.status, 202, res)
        got = sink.wait_for(4)
        self.assertEqual(sorted(r.ce("id") for r in got), ["c-1", "c-2", "c-3", "c-4"])
        self.assertEqual(got[0].body, b"from curl")

    def test_urllib_publishes_and_sees_errors(self):
        sink = self.make_sink()
        self.subscribe(sink.url)
        res = post_urllib(self.daemon.url + "/", b"via urllib",
                          binary_headers(id="u-1", content_type="text/plain"))
        self.assertEqual(res.status, 202, res)
        self.assertEqual(sink.wait_for(1)[0].body, b"via urllib")
        res = post_urllib(self.daemon.url + "/", b"x", {"Content-Type": "text/plain"})
        self.assertProblem(res, 415, "unsupported-media-type")

    def test_curl_large_body_with_expect_continue(self):
        # curl sends Expect: 100-continue for large bodies and waits for our 100.
        sink = self.make_sink()
        self.subscribe(sink.url)
        data = os.urandom(600 * 1024)
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            res = curl(["-X", "POST", self.daemon.url + "/", "-H", "Expect: 100-continue",
                        "-H", "ce-specversion: 1.0", "-H", "ce-id: big", "-H", "ce-source: /c",
                        "-H", "ce-type: t", "-H", "Content-Type: application/octet-stream",
                        "--data-binary", "@" + f.name])
        self.assertEqual(res.status, 202, res)
        self.assertEqual(sink.wait_for(1)[0].body, data)

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=10)
        try:
            for i in range(20):
                conn.request("POST", "/", body=b"x", headers=binary_headers(id=str(i)))
                res = conn.getresponse()
                res.read()
                self.assertEqual(res.status, 202)
            conn.request("GET", "/healthz")
            res = conn.getresponse()
            self.assertEqual((res.status, json.loads(res.read())), (200, {"status": "ok"}))
        finally:
            conn.close()

    def test_concurrent_publishers_on_keep_alive_connections(self):
        sink = self.make_sink()
        self.subscribe(sink.url, delivery={"concurrency": 8})
        errors = []

        def publisher(n):
            conn = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=10)
            try:
                for i in range(25):
                    conn.request("POST", "/", body=f"{n}-{i}".encode(),
                                 headers=binary_headers(id=f"{n}-{i}", content_type="text/plain"))
                    res = conn.getresponse()
                    res.read()
                    if res.status != 202:
                        errors.append(res.status)
            except Exception as e:  # reported below, not lost in the thread
                errors.append(repr(e))
            finally:
                conn.close()

        threads = [threading.Thread(target=publisher, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        got = sink.wait_for(200, timeout=30)
        self.assertEqual(sorted(r.ce("id") for r in got),
                         sorted(f"{n}-{i}" for n in range(8) for i in range(25)))
        self.assertTrue(all(r.body.decode() == r.ce("id") for r in got))


class IngressErrors(EvmeshTestCase):
    sets = ("http.max_event_bytes=2048", "http.max_batch_bytes=8192")

    def test_unsupported_media_type_is_415(self):
        res = self.daemon.request("POST", "/", b"<e/>", {"Content-Type": "application/cloudevents+xml"})
        self.assertProblem(res, 415, "unsupported-media-type")
        res = self.daemon.request("POST", "/", b"hello", {"Content-Type": "text/plain"})
        self.assertProblem(res, 415, "unsupported-media-type")

    def test_missing_attribute_names_it(self):
        h = binary_headers()
        del h["ce-source"]
        self.assertProblem(self.daemon.request("POST", "/", b"", h), 400, pointer="source")
        res = self.publish_structured({"specversion": "1.0", "id": "1", "source": "/s"})
        self.assertProblem(res, 400, "invalid-event", pointer="type")

    def test_malformed_attribute_names_it(self):
        res = self.publish_binary(b"", time="yesterday")
        self.assertProblem(res, 400, "invalid-event", pointer="time")
        res = self.publish_structured(event(specversion="0.3"))
        self.assertProblem(res, 400, pointer="specversion")

    def test_bad_json_is_400(self):
        res = self.daemon.request("POST", "/", b"{not json", {"Content-Type": "application/cloudevents+json"})
        self.assertProblem(res, 400, "invalid-format")

    def test_batch_is_all_or_nothing(self):
        sink = self.make_sink()
        self.subscribe(sink.url)
        bad = [event(id="ok-0"), {"specversion": "1.0", "id": "x", "type": "t"}, event(id="ok-2")]
        res = self.publish_batch(bad)
        self.assertProblem(res, 400, "invalid-event", pointer="/1/source")
        self.assertNoDelivery(sink)

    def test_oversized_structured_event_is_413(self):
        res = self.publish_structured(event(data="x" * 4000))
        self.assertProblem(res, 413, "too-large", detail_contains="max_event_bytes")

    def test_oversized_binary_event_is_413_and_the_daemon_goes_on(self):
        res = self.publish_binary(b"y" * 5000)
        self.assertProblem(res, 413, "too-large", detail_contains="max_event_bytes")
        self.assertEqual(res.headers.get("connection"), "close")
        # The daemon is still fine.
        self.assertEqual(self.publish_binary(b"small").status, 202)

    def test_oversized_batch_is_413(self):
        events = [event(id=str(i), data="z" * 1000) for i in range(10)]
        res = self.publish_batch(events)
        self.assertProblem(res, 413, "too-large", detail_contains="max_batch_bytes")

    def test_batch_event_over_event_limit_is_413_naming_index(self):
        events = [event(id="a"), event(id="b", data="w" * 3000)]
        res = self.publish_batch(events)
        self.assertProblem(res, 413, "too-large", pointer="/1")

    def test_chunked_body_over_limit_is_413(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=10)
        try:
            def chunks():
                for _ in range(10):
                    yield b"c" * 1000
            conn.request("POST", "/", body=chunks(), headers=binary_headers(), encode_chunked=True)
            res = conn.getresponse()
            body = res.read()
            self.assertEqual(res.status, 413, body)
            self.assertEqual(json.loads(body)["type"], "urn:evmesh:problem:too-large")
        finally:
            conn.close()

    def test_header_over_limit_is_431(self):
        res = self.daemon.request("POST", "/", b"", binary_headers(big="v" * 20000))
        self.assertProblem(res, 431, "headers-too-large")

    def test_curl_oversized_gets_413_without_sending_body(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"q" * (512 * 1024))
            f.flush()
            res = curl(["-X", "POST", self.daemon.url + "/", "-H", "Expect: 100-continue",
                        "-H", "ce-specversion: 1.0", "-H", "ce-id: 1", "-H", "ce-source: /c",
                        "-H", "ce-type: t", "--data-binary", "@" + f.name])
        self.assertEqual(res.status, 413, res)
        self.assertIn("max_event_bytes", res.json()["detail"])

    def test_wrong_method_and_unknown_path(self):
        res = self.daemon.request("GET", "/")
        self.assertProblem(res, 405, "method-not-allowed")
        self.assertEqual(res.headers.get("allow"), "POST")
        self.assertProblem(self.daemon.request("GET", "/nope"), 404, "not-found")
        self.assertProblem(self.daemon.request("DELETE", "/subscriptions"), 405)

    def test_health_endpoints(self):
        res = self.daemon.request("GET", "/healthz")
        self.assertEqual((res.status, res.json()), (200, {"status": "ok"}))
        res = self.daemon.request("GET", "/readyz")
        self.assertEqual(res.status, 200)


if __name__ == "__main__":
    unittest.main()
