"""Dead letters and replay need an admin principal (docs/security.md): on the main
listener a principal outside admin.principals gets 403, an admin gets the answer; the
admin listener serves the same endpoints; evmeshctl dlq / replay work against both."""
import re
import shutil
import tempfile
import unittest

from harness import EvmeshTestCase, request, wait_until
from security_harness import bearer, evmeshctl, hash_key

OPS_KEY, ADMIN_KEY = "ops-key-0123456789", "admin-key-0123456789"
ADMIN_LISTENING = re.compile(r"admin listening on 127\.0\.0\.1:(\d+)")


class OperatorEndpoints(EvmeshTestCase):
    start_daemon = False

    def setUp(self):
        super().setUp()
        self.data = tempfile.mkdtemp(prefix="evmesh-operator-")
        self.addCleanup(shutil.rmtree, self.data, True)
        sink = self.make_sink()
        self.daemon = self.start_evmeshd(f"""
auth:
  api_keys:
    - principal: ops
      hash: {hash_key(OPS_KEY)}
    - principal: admin
      hash: {hash_key(ADMIN_KEY)}
acl:
  - name: ops
    principal: ops
    allow: [{{publish: "**"}}, {{subscribe: "**"}}]
admin:
  listen: 127.0.0.1:0
  principals: [admin]
subscriptions:
  - id: orders
    sink: {sink.url}
    durable: true
""", sets=[f"store.data_dir={self.data}", "store.retention=1h"])
        port = wait_until(lambda: (m := ADMIN_LISTENING.search(self.daemon.output())) and int(m.group(1)),
                          10, what="admin listening")
        self.admin_url = f"http://127.0.0.1:{port}"

    def test_a_non_admin_principal_gets_403_on_the_main_listener(self):
        for method, path, body in (("GET", "/admin/subscriptions/orders/deadletters", None),
                                   ("GET", "/admin/subscriptions/orders/deadletters/1", None),
                                   ("DELETE", "/admin/subscriptions/orders/deadletters/1", None),
                                   ("POST", "/admin/subscriptions/orders/deadletters/1/redrive", None),
                                   ("POST", "/admin/subscriptions/orders/replay", {"from": "oldest"})):
            res = self.daemon.request(method, path, body, bearer(OPS_KEY))
            self.assertProblem(res, 403, "permission-denied",
                               detail_contains="principal 'ops' may not use the admin API")
            self.assertProblem(self.daemon.request(method, path, body), 401, "unauthenticated")
        # The log is read by another thread of the harness: it may trail the response.
        self.daemon.wait_for_log(re.escape(
            "denied: principal 'ops' admin '/admin/subscriptions/orders/replay' (not in admin.principals)"))
        denials = request(self.admin_url, "GET", "/admin/denials", None, bearer(ADMIN_KEY)).json()
        self.assertEqual(denials["admin"], 5)
        self.assertIn({"principal": "ops", "action": "admin", "type": "/admin/subscriptions/orders/replay",
                       "count": 1}, denials["by"])

    def test_an_admin_principal_is_served_on_both_listeners(self):
        for url in (self.daemon.url, self.admin_url):
            res = request(url, "GET", "/admin/subscriptions/orders/deadletters", None, bearer(ADMIN_KEY))
            self.assertEqual(res.status, 200, res)
            self.assertEqual(res.json(), {"deadletters": [], "next": None})

    def test_evmeshctl_dlq_and_replay_as_admin(self):
        for url in (self.daemon.url, self.admin_url):
            out = evmeshctl("--url", url, "--token", ADMIN_KEY, "dlq", "list", "orders")
            self.assertEqual(out.returncode, 0, out.stderr)
            out = evmeshctl("--url", url, "--token", ADMIN_KEY, "replay", "orders", "--from", "oldest")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("replaying orders from offset", out.stdout)
        out = evmeshctl("--url", self.daemon.url, "--token", OPS_KEY, "dlq", "list", "orders")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("may not use the admin API", out.stderr)


if __name__ == "__main__":
    unittest.main()
