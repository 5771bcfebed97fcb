"""Durable subscriptions created through the Subscriptions API survive a restart
(docs/storage.md#api-subscriptions-across-restarts): the real daemon, a real HTTP sink,
kill -9 between the publishes and the sink's acks."""

import json
import shutil
import signal
import tempfile

from grpc_harness import GRPC_LISTENING, grpc, stubs
from harness import EvmeshTestCase, Reply, binary_headers, wait_until
from security_harness import bearer, hash_key

ALICE, BOB = "alice-key-0123456789", "bob-key-0123456789"


class SavedSubscriptionsTest(EvmeshTestCase):
    start_daemon = False

    def setUp(self):
        super().setUp()
        self.data = tempfile.mkdtemp(prefix="evmesh-saved-")
        self.addCleanup(shutil.rmtree, self.data, True)

    def start(self, config="", sets=()):
        return self.start_evmeshd(config, sets=[f"store.data_dir={self.data}", *sets])

    def crash(self, daemon):
        daemon.signal(signal.SIGKILL)
        daemon.wait()

    def publish_n(self, daemon, n):
        for i in range(n):
            res = self.publish_binary(b"x", daemon=daemon, id=f"e{i}", partitionkey="k")
            self.assertEqual(res.status, 202, res)

    def test_created_subscription_and_its_backlog_survive_kill_9(self):
        sink = self.make_sink(default=Reply(503))  # the sink is down: nothing is acked
        daemon = self.start()
        created = self.subscribe(sink.url, daemon=daemon, durable=True,
                                 filters=[{"prefix": {"type": "com.example."}}],
                                 delivery={"maxattempts": 1000, "initialbackoff": "50ms",
                                           "maxbackoff": "100ms"})
        self.publish_n(daemon, 5)
        sink.wait_for(1)  # the first delivery attempt was refused
        self.crash(daemon)

        sink.default = Reply(200)  # back up
        with sink.cond:
            sink.requests.clear()
        daemon = self.start()
        listed = daemon.request("GET", "/subscriptions").json()
        self.assertEqual([s["id"] for s in listed], [created["id"]])
        self.assertEqual(listed[0], created)  # every property as created
        delivered = [r.ce("id") for r in sink.wait_for(5)]
        self.assertEqual(delivered[:5], ["e0", "e1", "e2", "e3", "e4"])
        daemon.wait_for_log(r"restored 1 of 1 saved subscription")
        # New events reach it too.
        self.assertEqual(self.publish_binary(b"y", daemon=daemon, id="new").status, 202)
        wait_until(lambda: "new" in [r.ce("id") for r in sink.wait_for(1)], what="the new event")

    def test_deleted_subscription_stays_deleted_after_kill_9(self):
        sink = self.make_sink()
        daemon = self.start()
        gone = self.subscribe(sink.url, daemon=daemon, durable=True)
        kept = self.subscribe(sink.url, daemon=daemon, durable=True)
        res = daemon.request("DELETE", "/subscriptions/" + gone["id"])
        self.assertEqual(res.status, 200, res)
        self.crash(daemon)

        daemon = self.start()
        self.assertEqual([s["id"] for s in daemon.request("GET", "/subscriptions").json()],
                         [kept["id"]])
        self.assertProblem(daemon.request("GET", "/subscriptions/" + gone["id"]), 404)

    def test_replacement_is_what_comes_back(self):
        old_sink, new_sink = self.make_sink(), self.make_sink()
        daemon = self.start()
        body = {"sink": old_sink.url, "durable": True}
        self.assertEqual(daemon.request("PUT", "/subscriptions/orders", body).status, 201)
        body["sink"] = new_sink.url
        self.assertEqual(daemon.request("PUT", "/subscriptions/orders", body).status, 200)
        self.crash(daemon)

        daemon = self.start()
        got = daemon.request("GET", "/subscriptions/orders").json()
        self.assertEqual(got["sink"], new_sink.url)
        self.publish_n(daemon, 1)
        self.assertEqual([r.ce("id") for r in new_sink.wait_for(1)], ["e0"])
        self.assertEqual(old_sink.count(), 0)

    def test_replaced_by_a_transient_one_is_not_restored(self):
        daemon = self.start()
        body = {"sink": "http://127.0.0.1:9/", "durable": True}
        self.assertEqual(daemon.request("PUT", "/subscriptions/orders", body).status, 201)
        body["durable"] = False
        self.assertEqual(daemon.request("PUT", "/subscriptions/orders", body).status, 200)
        self.crash(daemon)
        daemon = self.start()
        self.assertEqual(daemon.request("GET", "/subscriptions").json(), [])

    def test_transient_api_subscriptions_are_not_kept(self):
        daemon = self.start()
        self.subscribe("http://127.0.0.1:9/", daemon=daemon, durable=True)
        self.subscribe("http://127.0.0.1:9/", daemon=daemon)  # transient: in memory only
        self.assertEqual(daemon.stop(), 0)
        daemon = self.start()
        listed = daemon.request("GET", "/subscriptions").json()
        self.assertEqual([s["durable"] for s in listed], [True])

    def test_an_api_subscription_keeps_its_id_when_yaml_declares_it_later(self):
        api_sink, yaml_sink = self.make_sink(), self.make_sink()
        daemon = self.start()
        body = {"sink": api_sink.url, "durable": True}
        self.assertEqual(daemon.request("PUT", "/subscriptions/orders", body).status, 201)
        self.assertEqual(daemon.stop(), 0)

        config = f"subscriptions:\n  - id: orders\n    sink: {yaml_sink.url}\n    durable: true\n"
        daemon = self.start(config)
        daemon.wait_for_log(r"subscription 'orders' not created: an API subscription restored "
                            r"from the store has this id")
        self.assertEqual(daemon.request("GET", "/subscriptions/orders").json()["sink"], api_sink.url)
        # Deleting the API subscription and reloading hands the id to the config.
        self.assertEqual(daemon.request("DELETE", "/subscriptions/orders").status, 200)
        daemon.signal(signal.SIGHUP)
        wait_until(lambda: daemon.request("GET", "/subscriptions/orders").status == 200,
                   what="the YAML subscription")
        self.assertEqual(daemon.request("GET", "/subscriptions/orders").json()["sink"], yaml_sink.url)

    def test_owner_and_its_rights_are_kept(self):
        keys = (f"auth:\n  api_keys:\n"
                f"    - principal: alice\n      hash: {hash_key(ALICE)}\n"
                f"    - principal: bob\n      hash: {hash_key(BOB)}\n"
                "acl:\n"
                "  - name: alice-reads\n    principal: alice\n    allow:\n      - subscribe: \"com.example.*\"\n"
                "  - name: bob-writes\n    principal: bob\n    allow:\n      - publish: \"com.example.*\"\n")
        sink = self.make_sink()
        daemon = self.start(keys)
        body = {"sink": sink.url, "durable": True}
        res = daemon.request("PUT", "/subscriptions/alices", body, bearer(ALICE))
        self.assertEqual(res.status, 201, res)
        self.crash(daemon)

        daemon = self.start(keys)
        res = daemon.request("DELETE", "/subscriptions/alices", headers=bearer(BOB))
        self.assertProblem(res, 403, detail_contains="subscription 'alices' belongs to 'alice'")
        res = daemon.request("POST", "/", b"x",
                             {**binary_headers(id="p1", type="com.example.a"), **bearer(BOB)})
        self.assertEqual(res.status, 202, res)
        self.assertEqual([r.ce("id") for r in sink.wait_for(1)], ["p1"])
        res = daemon.request("DELETE", "/subscriptions/alices", headers=bearer(ALICE))
        self.assertEqual(res.status, 200, res)

    def test_grpc_subscription_management_is_saved_too(self):
        pb, pb_grpc, _ = stubs()
        daemon = self.start(sets=["grpc.enabled=true"])
        port = wait_until(lambda: (m := GRPC_LISTENING.search(daemon.output())) and int(m.group(1)),
                          what="grpc listening")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.BrokerStub(channel)
            body = json.dumps({"sink": "http://127.0.0.1:9/", "durable": True})
            kept = json.loads(stub.CreateSubscription(pb.SubscriptionRequest(json=body), timeout=5).json)
            stub.UpdateSubscription(pb.SubscriptionRequest(id="gone", json=body), timeout=5)
            stub.DeleteSubscription(pb.SubscriptionRequest(id="gone"), timeout=5)
        self.crash(daemon)

        daemon = self.start()
        listed = daemon.request("GET", "/subscriptions").json()
        self.assertEqual([s["id"] for s in listed], [kept["id"]])
        self.assertEqual(listed[0], kept)


if __name__ == "__main__":
    import unittest
    unittest.main()
