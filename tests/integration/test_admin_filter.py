"""Admin endpoints: test a filter or evaluate CESQL against an event, publishing nothing."""

import unittest

from harness import EvmeshTestCase, event


class FilterTest(EvmeshTestCase):
    def check(self, filters, ev):
        res = self.daemon.request("POST", "/admin/filter/test", {"filters": filters, "event": ev})
        self.assertEqual(res.status, 200, res)
        return res.json()["matches"]

    def test_matches_and_misses(self):
        ev = event(type="com.shop.order.created", source="/shop/eu", subject="cat.jpg")
        self.assertTrue(self.check([], ev))
        self.assertTrue(self.check([{"prefix": {"type": "com.shop.order."}}], ev))
        self.assertFalse(self.check([{"exact": {"type": "com.shop.paid"}}], ev))
        self.assertTrue(self.check([{"any": [{"suffix": {"subject": ".png"}},
                                             {"exact": {"source": "/shop/eu"}}]},
                                    {"not": {"exact": {"type": "x"}}}], ev))
        self.assertFalse(self.check([{"exact": {"subject": "dog.jpg"}}], event()))

    def test_sql_dialect(self):
        ev = event(type="com.shop.order.created", source="/shop/eu")
        self.assertTrue(self.check([{"sql": "type LIKE 'com.shop.%' AND source = '/shop/eu'"}], ev))
        self.assertFalse(self.check([{"sql": "source = '/shop/us'"}], ev))

    def test_does_not_publish(self):
        sink = self.make_sink()
        self.subscribe(sink.url)
        self.assertTrue(self.check([], event()))
        self.assertNoDelivery(sink, wait=0.3)

    def test_bad_filter_points_at_it(self):
        res = self.daemon.request("POST", "/admin/filter/test",
                                  {"filters": [{"exact": {"type": "a"}}, {"any": [{"bogus": {}}]}],
                                   "event": event()})
        self.assertProblem(res, 400, pointer_prefix="filters[1].any[0]")
        res = self.daemon.request("POST", "/admin/filter/test", {"filters": {"exact": {}}, "event": event()})
        self.assertProblem(res, 400, pointer_prefix="filters")

    def test_bad_event_names_the_attribute(self):
        ev = event()
        del ev["source"]
        res = self.daemon.request("POST", "/admin/filter/test", {"filters": [], "event": ev})
        p = self.assertProblem(res, 400, type="invalid-event", pointer="event.source")
        self.assertIn("source", p["detail"])
        res = self.daemon.request("POST", "/admin/filter/test",
                                  {"filters": [], "event": event(specversion="0.3")})
        self.assertProblem(res, 400, type="invalid-event", pointer="event.specversion")
        res = self.daemon.request("POST", "/admin/filter/test", {"filters": [], "event": "x"})
        self.assertProblem(res, 400, pointer="event")

    def test_malformed_bodies(self):
        self.assertProblem(self.daemon.request("POST", "/admin/filter/test", "{nope",
                                               {"Content-Type": "application/json"}), 400)
        self.assertProblem(self.daemon.request("POST", "/admin/filter/test", {"event": event()}), 400,
                           pointer="filters")
        self.assertProblem(self.daemon.request("POST", "/admin/filter/test", "[]",
                                               {"Content-Type": "text/plain"}), 415)
        res = self.daemon.request("GET", "/admin/filter/test")
        self.assertProblem(res, 405)
        self.assertEqual(res.headers.get("allow"), "POST")
        self.assertProblem(self.daemon.request("POST", "/admin/nothing", {}), 404)


class CesqlEval(EvmeshTestCase):
    def evaluate(self, expression, ev=None):
        res = self.daemon.request("POST", "/admin/cesql/eval",
                                  {"expression": expression, "event": ev or event()})
        self.assertEqual(res.status, 200, res)
        return res.json()

    def test_values_and_types(self):
        self.assertEqual(self.evaluate("1 + 2"), {"value": 3, "type": "Integer", "errors": []})
        self.assertEqual(self.evaluate("source"), {"value": "/it", "type": "String", "errors": []})
        self.assertEqual(self.evaluate("type = 'com.example.test'"),
                         {"value": True, "type": "Boolean", "errors": []})
        self.assertEqual(self.evaluate("UPPER(subject)", event(subject="abc"))["value"], "ABC")

    def test_errors_are_reported_not_fatal(self):
        r = self.evaluate("1 / 0")
        self.assertEqual((r["value"], r["type"]), (0, "Integer"))
        self.assertEqual([e["kind"] for e in r["errors"]], ["math"])
        self.assertTrue(r["errors"][0]["message"])
        r = self.evaluate("missingattr = 'x'")
        self.assertEqual(r["type"], "Boolean")
        self.assertIn("missingAttribute", [e["kind"] for e in r["errors"]])

    def test_data_paths(self):
        ev = event(datacontenttype="application/json", data={"order": {"total": 42}})
        self.assertEqual(self.evaluate("data.order.total > 40", ev)["value"], True)

    def test_parse_error_gives_the_position(self):
        res = self.daemon.request("POST", "/admin/cesql/eval", {"expression": "(1 + ", "event": event()})
        p = self.assertProblem(res, 400, pointer="expression")
        self.assertIn("position", p["detail"])
        self.assertIsInstance(p.get("position"), int)
        res = self.daemon.request("POST", "/admin/cesql/eval", {"expression": 5, "event": event()})
        self.assertProblem(res, 400, pointer="expression")

    def test_bad_event(self):
        ev = event()
        del ev["id"]
        res = self.daemon.request("POST", "/admin/cesql/eval", {"expression": "true", "event": ev})
        self.assertProblem(res, 400, type="invalid-event", pointer="event.id")


if __name__ == "__main__":
    unittest.main()
