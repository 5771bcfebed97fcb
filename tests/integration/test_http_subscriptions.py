"""The Subscriptions API: CRUD, validation errors with pointers, limits."""

import time
import unittest

from harness import EvmeshTestCase, curl


class SubscriptionsCrud(EvmeshTestCase):
    def test_create_get_list_replace_delete(self):
        sink = self.make_sink()
        body = {"sink": sink.url, "protocol": "HTTP", "types": ["com.example.a"],
                "filters": [{"prefix": {"source": "/shop"}}], "config": {"team": "blue"}}
        res = self.daemon.request("POST", "/subscriptions", body)
        self.assertEqual(res.status, 201, res)
        created = res.json()
        sid = created["id"]
        self.assertTrue(sid)
        self.assertEqual(res.headers["location"], f"/subscriptions/{sid}")
        self.assertTrue(res.headers["content-type"].startswith("application/json"))
        self.assertEqual(created["sink"], sink.url)
        self.assertEqual(created["types"], ["com.example.a"])
        self.assertEqual(created["filters"], [{"prefix": {"source": "/shop"}}])
        self.assertEqual(created["config"], {"team": "blue"})

        res = self.daemon.request("GET", f"/subscriptions/{sid}")
        self.assertEqual((res.status, res.json()), (200, created))

        res = self.daemon.request("GET", "/subscriptions")
        self.assertEqual(res.status, 200)
        self.assertEqual([s["id"] for s in res.json()], [sid])

        # The subscription routes: a matching event arrives, another does not.
        self.assertEqual(self.publish_binary(b"1", id="hit", source="/shop/1", type="com.example.a").status, 202)
        self.assertEqual(self.publish_binary(b"2", id="miss", source="/other", type="com.example.a").status, 202)
        self.assertEqual([r.ce("id") for r in sink.wait_for(1)], ["hit"])

        replacement = {"sink": sink.url, "filters": [{"exact": {"type": "com.example.b"}}]}
        res = self.daemon.request("PUT", f"/subscriptions/{sid}", replacement)
        self.assertEqual(res.status, 200, res)
        self.assertEqual(res.json()["id"], sid)
        self.assertEqual(res.json()["filters"], [{"exact": {"type": "com.example.b"}}])
        self.assertFalse(res.json().get("types"))  # replaced whole: no types any more
        self.assertEqual(self.daemon.request("GET", f"/subscriptions/{sid}").json(), res.json())
        self.assertEqual(self.publish_binary(b"3", id="after", type="com.example.b").status, 202)
        got = sink.wait_for(2)
        self.assertEqual(got[1].ce("id"), "after")

        res = self.daemon.request("DELETE", f"/subscriptions/{sid}")
        self.assertEqual(res.status, 200, res)
        self.assertEqual(res.json()["id"], sid)
        self.assertEqual(res.json()["filters"], [{"exact": {"type": "com.example.b"}}])
        self.assertProblem(self.daemon.request("GET", f"/subscriptions/{sid}"), 404, "not-found")
        self.assertProblem(self.daemon.request("DELETE", f"/subscriptions/{sid}"), 404, "not-found")
        self.assertEqual(self.daemon.request("GET", "/subscriptions").json(), [])
        self.assertEqual(self.publish_binary(b"4", id="gone", type="com.example.b").status, 202)
        time.sleep(0.3)
        self.assertEqual(sink.count(), 2)

    def test_id_in_body_is_ignored_on_create(self):
        sink = self.make_sink()
        a = self.subscribe(sink.url, id="chosen")
        b = self.subscribe(sink.url, id="chosen")
        self.assertNotEqual(a["id"], b["id"])
        self.assertEqual(len(self.daemon.request("GET", "/subscriptions").json()), 2)

    def test_put_unknown_id_creates_it_and_id_mismatch_is_400(self):
        sink = self.make_sink()
        res = self.daemon.request("PUT", "/subscriptions/my-orders.v1", {"sink": sink.url})
        self.assertEqual(res.status, 201, res)
        self.assertEqual(res.headers["location"], "/subscriptions/my-orders.v1")
        self.assertEqual(res.json()["id"], "my-orders.v1")
        self.assertEqual(self.daemon.request("GET", "/subscriptions/my-orders.v1").json(), res.json())
        res = self.daemon.request("PUT", "/subscriptions/my-orders.v1", {"sink": sink.url + "x"})
        self.assertEqual(res.status, 200, res)
        res = self.daemon.request("PUT", "/subscriptions/bad%20id", {"sink": sink.url})
        self.assertProblem(res, 400, "invalid-subscription", pointer="id")
        res = self.daemon.request("PUT", "/subscriptions/my-orders.v1", {"id": "other", "sink": sink.url})
        self.assertProblem(res, 400, "invalid-subscription", pointer="id")

    def test_curl_create_and_delete(self):
        sink = self.make_sink()
        url = self.daemon.url + "/subscriptions"
        res = curl(["-X", "POST", url, "-H", "Content-Type: application/json",
                    "--data-binary", '{"sink": "%s", "protocol": "HTTP"}' % sink.url])
        self.assertEqual(res.status, 201, res)
        self.assertEqual(res.headers["location"], "/subscriptions/" + res.json()["id"])
        res = curl(["-X", "DELETE", self.daemon.url + res.headers["location"]])
        self.assertEqual(res.status, 200, res)


class SubscriptionsValidation(EvmeshTestCase):
    def post(self, body, **headers):
        return self.daemon.request("POST", "/subscriptions", body, headers or None)

    def test_malformed_filter_names_pointer(self):
        res = self.post({"sink": "http://127.0.0.1:9/x", "filters": [{"exact": {"type": 5}}]})
        self.assertProblem(res, 400, "invalid-subscription", pointer_prefix="filters[0].exact")
        res = self.post({"sink": "http://127.0.0.1:9/x",
                         "filters": [{"prefix": {"type": "a"}}, {"exact": {}}]})
        self.assertProblem(res, 400, "invalid-subscription", pointer_prefix="filters[1].exact")

    def test_unknown_dialect_names_pointer(self):
        res = self.post({"sink": "http://127.0.0.1:9/x", "filters": [{"regex": {"type": ".*"}}]})
        p = self.assertProblem(res, 400, "invalid-subscription")
        self.assertTrue(p["pointer"].startswith("filters[0]"), p)

    def test_bad_sink_names_pointer(self):
        res = self.post({"sink": "ftp://127.0.0.1/x", "protocol": "HTTP"})
        p = self.assertProblem(res, 400, "invalid-subscription")
        self.assertTrue(p["pointer"].startswith("sink"), p)
        res = self.post({"sink": "http://127.0.0.1:99999/x"})
        self.assertTrue(self.assertProblem(res, 400)["pointer"].startswith("sink"))
        res = self.post({"filters": []})
        self.assertTrue(self.assertProblem(res, 400)["pointer"].startswith("sink"))

    def test_bad_delivery_names_pointer(self):
        res = self.post({"sink": "http://127.0.0.1:9/x", "delivery": {"maxattempts": "many"}})
        self.assertProblem(res, 400, "invalid-subscription", pointer="delivery.maxattempts")

    def test_unknown_property_is_refused(self):
        res = self.post({"sink": "http://127.0.0.1:9/x", "filtres": []})
        p = self.assertProblem(res, 400, "invalid-subscription")
        self.assertIn("filtres", p["pointer"] + p["detail"])

    def test_bad_json_and_wrong_types(self):
        res = self.daemon.request("POST", "/subscriptions", b"{nope", {"Content-Type": "application/json"})
        self.assertProblem(res, 400, "invalid-format")
        res = self.daemon.request("POST", "/subscriptions", b"[1]", {"Content-Type": "application/json"})
        self.assertProblem(res, 400, "invalid-format")
        res = self.daemon.request("POST", "/subscriptions", b"sink=x", {"Content-Type": "text/plain"})
        self.assertProblem(res, 415, "unsupported-media-type")

    def test_nothing_created_by_bad_requests(self):
        self.post({"sink": "ftp://x"})
        self.post({"sink": "http://127.0.0.1:9/x", "filters": [{"all": []}]})
        self.assertEqual(self.daemon.request("GET", "/subscriptions").json(), [])


class SubscriptionsLimit(EvmeshTestCase):
    sets = ("runtime.max_subscriptions=2",)

    def test_limit_is_409(self):
        sink = self.make_sink()
        self.subscribe(sink.url)
        self.subscribe(sink.url)
        res = self.daemon.request("POST", "/subscriptions", {"sink": sink.url})
        self.assertProblem(res, 409, "limit-reached")


if __name__ == "__main__":
    unittest.main()
