"""Authentication and ACLs on the gRPC listener (docs/security.md): credentials in the
`authorization` metadata, the same principals and rules as HTTP."""

import unittest

from grpc_harness import GrpcTestCase, StreamReader, grpc
from security_harness import hash_key

PAY_KEY, OPS_KEY = "grpc-pay-key-0123456789", "grpc-ops-key-0123456789"


class GrpcAuth(GrpcTestCase):
    @property
    def config(self):
        return f"""
auth:
  api_keys:
    - principal: service:payment-service
      hash: {hash_key(PAY_KEY)}
    - principal: ops
      hash: {hash_key(OPS_KEY)}
acl:
  - name: production-access
    principal: service:payment-service
    allow:
      - publish: "com.company.payment.*"
      - subscribe: "com.company.order.created"
    deny:
      - subscribe: "com.company.*.internal"
  - name: ops
    principal: ops
    allow: [{{publish: "**"}}, {{subscribe: "**"}}]
"""

    def md(self, key):
        return (("authorization", f"Bearer {key}"),)

    def stream(self, key, filters, group):
        """A Subscribe call that stays open (the request iterator blocks until cleanup)."""
        import queue
        outbox = queue.Queue()
        outbox.put(self.pb.SubscribeRequest(start=self.pb.SubscribeStart(filters=filters, group=group)))

        def requests():
            while (item := outbox.get()) is not None:
                yield item

        call = self.stub.Subscribe(requests(), metadata=self.md(key))
        self.addCleanup(call.cancel)
        self.addCleanup(outbox.put, None)
        return call

    def test_publish_needs_credentials_and_an_allowing_acl(self):
        with self.assertRaises(grpc.RpcError) as e:
            self.publish(self.event(type="com.company.payment.done"))
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        self.assertIn("no credentials", e.exception.details())
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.Publish(self.pb.PublishRequest(event=self.event()), metadata=self.md("bad"))
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        self.assertIn("unknown API key", e.exception.details())

        ok = self.stub.Publish(self.pb.PublishRequest(event=self.event(type="com.company.payment.done")),
                               metadata=self.md(PAY_KEY))
        self.assertEqual(ok.deliveries, 0)
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.Publish(self.pb.PublishRequest(event=self.event(type="com.company.order.created")),
                              metadata=self.md(PAY_KEY))
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn("principal 'service:payment-service' may not publish events of type "
                      "'com.company.order.created'", e.exception.details())

        batch = self.pb.PublishBatchRequest(batch=self.ce.CloudEventBatch(events=[
            self.event(id="1", type="com.company.payment.a"),
            self.event(id="2", type="com.company.user.created")]))
        res = self.stub.PublishBatch(batch, metadata=self.md(PAY_KEY))
        self.assertEqual(res.results[0].code, 0)
        self.assertEqual(res.results[1].code, grpc.StatusCode.PERMISSION_DENIED.value[0])
        self.assertEqual(res.results[1].attribute, "type")

    def test_stream_subscription_gets_only_what_its_owner_may_read(self):
        filters = '[{"prefix": {"type": "com.company.order."}}]'
        reader = StreamReader(self.stream(PAY_KEY, filters, "pay"))
        self.daemon.wait_for_log(r"joined group pay")
        for i, t in enumerate(["com.company.order.internal", "com.company.order.created"]):
            self.stub.Publish(self.pb.PublishRequest(event=self.event(id=str(i), type=t)),
                              metadata=self.md(OPS_KEY))
        got = reader.take(1)
        self.assertEqual(got[0].event.type, "com.company.order.created")
        self.assertTrue(reader.nothing_within(0.3))

        # Another principal may not join that group.
        other = self.stream(OPS_KEY, filters, "pay")
        with self.assertRaises(grpc.RpcError) as e:
            list(other)
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn("belongs to 'service:payment-service'", e.exception.details())

    def test_subscription_api_refuses_denied_types_and_needs_credentials(self):
        body = '{"sink": "grpc-group:g1", "protocol": "GRPC", "types": ["com.company.order.internal"]}'
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.CreateSubscription(self.pb.SubscriptionRequest(json=body), metadata=self.md(PAY_KEY))
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn("may not subscribe", e.exception.details())
        with self.assertRaises(grpc.RpcError) as e:
            self.stub.ListSubscriptions(self.pb.ListSubscriptionsRequest())
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED)


if __name__ == "__main__":
    unittest.main()
