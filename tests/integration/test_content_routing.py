"""Routing by content through the real daemon: CESQL, globs and data patterns, from the
Subscriptions API and from YAML, and the errors a bad filter gets."""

import json
import time

from harness import EvmeshTestCase, event


ORDER_TYPE = "com.shop.order.created"


def order(id, total, tier="gold", type=ORDER_TYPE, source="/shop/eu"):
    ev = event(id=id, type=type, source=source)
    ev["datacontenttype"] = "application/json"
    ev["data"] = {"total": total, "customer": {"tier": tier}, "items": [{"sku": "a"}, {"sku": "b"}]}
    return ev


class ApiSubscriptions(EvmeshTestCase):
    def publish_orders(self):
        batch = [order("big", 150), order("small", 50), order("silver", 300, tier="silver"),
                 order("other", 500, type="com.shop.order.cancelled")]
        self.assertEqual(self.publish_batch(batch).status, 202)

    def received_ids(self, sink, n):
        got = sink.wait_for(n)
        time.sleep(0.2)  # nothing more arrives
        self.assertEqual(sink.count(), n)
        return sorted(r.ce("id") for r in got)

    def test_sql_filter_reads_attributes_and_data(self):
        sink = self.make_sink()
        self.subscribe(sink.url, [{"sql": f"type = '{ORDER_TYPE}' AND data.total > 100"}])
        self.publish_orders()
        self.assertEqual(self.received_ids(sink, 2), ["big", "silver"])

    def test_glob_filter(self):
        sink = self.make_sink()
        self.subscribe(sink.url, [{"glob": {"type": "com.*.order.created"}}])
        self.publish_orders()
        self.assertEqual(self.received_ids(sink, 3), ["big", "silver", "small"])

    def test_data_pattern_with_numeric_range_and_values(self):
        sink = self.make_sink()
        self.subscribe(sink.url, [{"pattern": {
            "type": [ORDER_TYPE],
            "data": {"total": [{"numeric": [">", 100, "<=", 500]}],
                     "customer": {"tier": ["gold", "platinum"]}}}}])
        self.publish_orders()
        self.assertEqual(self.received_ids(sink, 1), ["big"])

    def test_pattern_array_in_event_matches_any_element(self):
        sink = self.make_sink()
        self.subscribe(sink.url, [{"pattern": {"data": {"items": {"sku": ["b"]}}}}])
        self.publish_orders()
        self.assertEqual(self.received_ids(sink, 4), ["big", "other", "silver", "small"])

    def test_filters_come_back_as_written(self):
        sink = self.make_sink()
        filters = [{"sql": "data.total > 100"}, {"glob": {"type": "com.**"}},
                   {"pattern": {"data": {"total": [{"numeric": [">", 1]}]}}}]
        created = self.subscribe(sink.url, filters)
        self.assertEqual(created["filters"], filters)

    def test_sql_parse_error_names_the_position(self):
        sink = self.make_sink()
        res = self.daemon.request("POST", "/subscriptions", {
            "sink": sink.url, "filters": [{"exact": {"type": "a"}}, {"sql": "type = 'a' AND (source"}]})
        self.assertProblem(res, 400, "invalid-subscription", pointer_prefix="filters[1].sql")
        self.assertIn("position", res.json()["detail"])

    def test_overly_complex_filter_is_rejected(self):
        sink = self.make_sink()
        res = self.daemon.request("POST", "/subscriptions", {
            "sink": sink.url, "filters": [{"glob": {"type": "*a*b*c*d*e*f*g*h*i*j*"}}]})
        self.assertProblem(res, 400, "invalid-subscription", pointer_prefix="filters[0].glob")
        self.assertIn("too complex", res.json()["detail"])


class YamlSubscriptions(EvmeshTestCase):
    start_daemon = False

    def test_new_dialects_from_yaml(self):
        sink = self.make_sink()
        config = f"""
subscriptions:
  - id: big-orders
    sink: {sink.url}
    filters:
      - sql: "data.total > 100"
      - glob: {{type: "com.shop.*.created"}}
      - pattern: {{data: {{customer: {{tier: [gold]}}}}}}
"""
        self.daemon = self.start_evmeshd(config)
        batch = [order("big", 150), order("small", 50), order("silver", 300, tier="silver")]
        self.assertEqual(self.publish_batch(batch).status, 202)
        self.assertEqual([r.ce("id") for r in sink.wait_for(1)], ["big"])
        got = self.daemon.request("GET", "/subscriptions/big-orders").json()
        self.assertEqual(got["filters"][0], {"sql": "data.total > 100"})
