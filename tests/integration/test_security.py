"""Authentication, ACLs, TLS and the admin listener (docs/security.md), with real
clients: http.client, curl, evmeshctl, python-jwt tokens, openssl-made certificates."""

import base64
import hashlib
import hmac
import json
import re
import time
import unittest

import jwt  # python3-jwt

from harness import Daemon, EvmeshTestCase, binary_headers, built_binary, event, request, wait_until
from test_docs_examples import fenced_block_after, read_doc, run_shell
from security_harness import (PkiTestCase, TlsDaemon, bearer, evmeshctl, hash_key, https_request, query,
                              tls_context)

PAY_KEY, OPS_KEY, ADMIN_KEY = "pay-key-0123456789", "ops-key-0123456789", "admin-key-0123456789"
ADMIN_LISTENING = re.compile(r"admin listening on 127\.0\.0\.1:(\d+)")

SEED_ACL = """
acl:
  - name: production-access
    principal: service:payment-service
    allow:
      - publish: "com.company.payment.*"
      - subscribe: "com.company.order.created"
    deny:
      - subscribe: "com.company.*.internal"
  - name: operators
    principal: ops
    allow:
      - publish: "com.company.**"
      - subscribe: "**"
"""


def keys_config():
    return f"""
auth:
  api_keys:
    - principal: service:payment-service
      hash: {hash_key(PAY_KEY)}
    - principal: ops
      hash: {hash_key(OPS_KEY)}
    - principal: admin
      hash: {hash_key(ADMIN_KEY)}
admin:
  listen: 127.0.0.1:0
  principals: [admin]
""" + SEED_ACL


def admin_port(daemon):
    return wait_until(lambda: (m := ADMIN_LISTENING.search(daemon.output())) and int(m.group(1)),
                      10, what="admin listening")


class AclOverHttp(EvmeshTestCase):
    start_daemon = False

    def setUp(self):
        super().setUp()
        self.daemon = self.start_evmeshd(keys_config())
        self.admin = f"http://127.0.0.1:{admin_port(self.daemon)}"

    def publish(self, type, key=PAY_KEY, id="1"):
        return self.daemon.request("POST", "/", b"{}", {**binary_headers(id=id, type=type),
                                                        **bearer(key), "Content-Type": "application/json"})

    def test_publish_needs_credentials_and_an_allowing_acl(self):
        res = self.daemon.request("POST", "/", b"", binary_headers(type="com.company.payment.done"))
        self.assertProblem(res, 401, "unauthenticated", detail_contains="no credentials")
        self.assertEqual(res.headers.get("www-authenticate"), 'Bearer realm="evmesh"')
        self.assertProblem(self.publish("com.company.payment.done", key="wrong"), 401,
                           detail_contains="bearer token: unknown API key")
        res = self.daemon.request("POST", "/", b"", {**binary_headers(), "Authorization": "Token x"})
        self.assertProblem(res, 401, detail_contains="unsupported scheme")

        self.assertEqual(self.publish("com.company.payment.processed").status, 202)
        p = self.assertProblem(self.publish("com.company.order.created"), 403, "permission-denied",
                               pointer="type")
        self.assertEqual(p["detail"], "principal 'service:payment-service' may not publish events "
                                      "of type 'com.company.order.created'")
        # A batch is all or nothing: one denied type refuses it whole.
        res = self.daemon.request(
            "POST", "/", json.dumps([event(type="com.company.payment.a"),
                                     event(id="2", type="com.company.user.created")]).encode(),
            {"Content-Type": "application/cloudevents-batch+json", **bearer(PAY_KEY)})
        self.assertProblem(res, 403, detail_contains="'com.company.user.created'")
        self.daemon.wait_for_log(r"denied: principal 'service:payment-service' publish type "
                                 r"'com\.company\.order\.created'")
        # Health stays open for probes.
        self.assertEqual(self.daemon.request("GET", "/healthz").status, 200)

    def test_subscription_gets_only_what_its_owner_may_read(self):
        sink = self.make_sink()
        body = {"sink": sink.url, "protocol": "HTTP", "types": ["com.company.order.internal"]}
        res = self.daemon.request("POST", "/subscriptions", body, bearer(PAY_KEY))
        self.assertProblem(res, 403, "permission-denied", pointer="filters",
                           detail_contains="may not subscribe")
        res = self.daemon.request("POST", "/subscriptions", body)
        self.assertProblem(res, 401)
        body = {"sink": sink.url, "protocol": "HTTP",
                "filters": [{"prefix": {"type": "com.company.order."}}]}
        res = self.daemon.request("POST", "/subscriptions", body, bearer(PAY_KEY))
        self.assertEqual(res.status, 201, res)
        for i, t in enumerate(["com.company.order.internal", "com.company.order.updated",
                               "com.company.order.created"]):
            self.assertEqual(self.publish(t, key=OPS_KEY, id=str(i)).status, 202)
        got = sink.wait_for(1)
        time.sleep(0.3)
        self.assertEqual([r.ce("type") for r in sink.requests], ["com.company.order.created"])
        self.daemon.wait_for_log(r"denied: principal 'service:payment-service' receive type "
                                 r"'com\.company\.order\.internal'")

        # Only the owner may change or delete it.
        sub_id = res.json()["id"]
        res = self.daemon.request("DELETE", f"/subscriptions/{sub_id}", headers=bearer(OPS_KEY))
        self.assertProblem(res, 403, detail_contains=f"subscription '{sub_id}' belongs to "
                                                     "'service:payment-service'")
        res = self.daemon.request("PUT", f"/subscriptions/{sub_id}", body, bearer(OPS_KEY))
        self.assertProblem(res, 403, "permission-denied")
        self.assertEqual(self.daemon.request("GET", f"/subscriptions/{sub_id}",
                                             headers=bearer(OPS_KEY)).status, 200)

        denials = request(self.admin, "GET", "/admin/denials", headers=bearer(ADMIN_KEY)).json()
        self.assertEqual(denials["manage"], 2)
        self.assertEqual(denials["receive"], 2)
        self.assertEqual(denials["subscribe"], 1)
        self.assertEqual(denials["unauthenticated"], 1)
        self.assertIn({"principal": "service:payment-service", "action": "receive",
                       "type": "com.company.order.internal", "count": 1}, denials["by"])

    def test_admin_listener_answers_admins_only(self):
        res = request(self.admin, "GET", "/admin/config")
        self.assertProblem(res, 401)
        res = request(self.admin, "GET", "/admin/config", headers=bearer(PAY_KEY))
        self.assertProblem(res, 403, "permission-denied", detail_contains="admin.principals")
        config = request(self.admin, "GET", "/admin/config", headers=bearer(ADMIN_KEY)).json()
        self.assertEqual(config["acl"][0]["name"], "production-access")
        self.assertEqual(config["auth"]["anonymous"], False)
        self.assertEqual({k["hash"] for k in config["auth"]["api_keys"]}, {"<redacted>"})
        self.assertNotIn(hash_key(PAY_KEY), json.dumps(config))

        def check(principal, action, type):
            return request(self.admin, "GET", "/admin/acl/check?" +
                           query(principal=principal, action=action, type=type),
                           headers=bearer(ADMIN_KEY))
        self.assertTrue(check("service:payment-service", "publish", "com.company.payment.x").json()["allowed"])
        self.assertFalse(check("service:payment-service", "subscribe", "com.company.a.internal").json()["allowed"])
        self.assertFalse(check("nobody", "publish", "x").json()["allowed"])
        self.assertEqual(check("nobody", "publish", "odd?type&x=1").json()["type"], "odd?type&x=1")
        self.assertProblem(check("p", "read", "x"), 400, pointer="action",
                           detail_contains="action must be publish or subscribe, got 'read'")
        res = request(self.admin, "GET", "/admin/acl/check?principal=p", headers=bearer(ADMIN_KEY))
        self.assertProblem(res, 400, pointer="action", detail_contains="'action' is required")
        self.assertProblem(request(self.admin, "POST", "/admin/config", headers=bearer(ADMIN_KEY)), 405)
        self.assertProblem(request(self.admin, "GET", "/admin/nope", headers=bearer(ADMIN_KEY)), 404)
        # The broker's endpoints are not on the admin listener.
        self.assertProblem(request(self.admin, "GET", "/subscriptions", headers=bearer(ADMIN_KEY)), 404)
        # The stateless admin tools answer there too.
        res = request(self.admin, "POST", "/admin/filter/test",
                      {"filters": [{"exact": {"type": "a"}}], "event": event(type="a")},
                      headers=bearer(ADMIN_KEY))
        self.assertEqual(res.json(), {"matches": True})

    def test_evmeshctl_acl_check_and_admin(self):
        env = {"EVMESH_TOKEN": ADMIN_KEY}
        out = evmeshctl("--url", self.admin, "acl", "check", "--principal", "service:payment-service",
                        "--publish", "com.company.payment.processed", env=env)
        self.assertEqual((out.returncode, out.stdout), (0, "ALLOWED\n"), out.stderr)
        out = evmeshctl("--url", self.admin, "acl", "check", "--principal", "service:payment-service",
                        "--subscribe", "com.company.order.internal", env=env)
        self.assertEqual((out.returncode, out.stdout), (1, "DENIED\n"), out.stderr)
        out = evmeshctl("--url", self.admin, "acl", "check", "--principal", "x", env=env)
        self.assertEqual(out.returncode, 2)
        self.assertIn("exactly one of --publish TYPE or --subscribe TYPE", out.stderr)
        out = evmeshctl("--url", self.admin, "admin", "denials")
        self.assertEqual(out.returncode, 2)
        self.assertIn("server answered 401", out.stderr)
        out = evmeshctl("--url", self.admin, "--token", ADMIN_KEY, "admin", "denials")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('"unauthenticated": 1', out.stdout)
        out = evmeshctl("--url", self.admin, "--token", ADMIN_KEY, "admin", "config")
        self.assertEqual(json.loads(out.stdout)["admin"]["principals"], ["admin"])


class SecurityDocsExample(EvmeshTestCase):
    start_daemon = False

    def test_the_example_runs_as_written(self):
        doc = read_doc("docs/security.md")
        config = fenced_block_after(doc, "<!-- example: security -->", "yaml")
        daemon = self.start_evmeshd(config, ("admin.listen=127.0.0.1:0",))
        script = fenced_block_after(doc, "<!-- example: security-requests -->", "sh")
        script = (script.replace("127.0.0.1:8080", f"127.0.0.1:{daemon.port}")
                  .replace("127.0.0.1:9090", f"127.0.0.1:{admin_port(daemon)}")
                  .replace("evmeshctl ", built_binary("evmeshctl", "EVMESHCTL") + " "))
        out = run_shell(script)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "202\n403\n401\nALLOWED\nDENIED\n")


class AnonymousSetting(EvmeshTestCase):
    start_daemon = False

    def test_explicit_anonymous_with_acl_is_the_anonymous_principal(self):
        d = self.start_evmeshd("auth:\n  anonymous: true\nacl:\n  - name: public\n"
                               "    principal: anonymous\n    allow:\n      - publish: 'public.*'\n")
        self.assertEqual(d.request("POST", "/", b"", binary_headers(type="public.news")).status, 202)
        res = d.request("POST", "/", b"", binary_headers(type="private.x"))
        self.assertProblem(res, 403, detail_contains="principal 'anonymous' may not publish")

    def test_bad_security_config_refuses_to_start_with_file_line_and_key(self):
        d = Daemon("acl:\n  - name: a\n    principal: p\n    allow:\n      - publish: 'a.***'\n")
        self.addCleanup(d.close)
        d.spawn()
        self.assertNotEqual(d.wait(), 0)
        self.assertRegex(d.output(), r"evmesh\.yaml:5: acl\[0\]\.allow\[0\]\.publish: bad type pattern")


class HashKeyCli(unittest.TestCase):
    def test_hash_key_generates_and_hashes(self):
        out = evmeshctl("hash-key")
        self.assertEqual(out.returncode, 0, out.stderr)
        m = re.fullmatch(r"key:  ([0-9a-f]{64})\nhash: (sha256:[0-9a-f]{64})\n", out.stdout)
        self.assertTrue(m, out.stdout)
        self.assertEqual(hash_key(m.group(1)), m.group(2))
        out = evmeshctl("hash-key", "--pbkdf2", "-", input="hunter2\n")
        self.assertRegex(out.stdout, r"^pbkdf2-sha256\$210000\$[0-9a-f]{32}\$[0-9a-f]{64}\n$")
        out = evmeshctl("hash-key", "a", "b")
        self.assertEqual(out.returncode, 2)
        self.assertIn("unexpected argument 'b'", out.stderr)


class JwtAuth(PkiTestCase):

    def setUp(self):
        super().setUp()
        self.daemon = self.start_evmeshd(f"""
auth:
  jwt:
    - issuer: https://idp.example
      audience: evmesh
      algorithm: RS256
      public_key_file: {self.pki.path("jwt.pub")}
    - issuer: https://hs.example
      audience: [evmesh, other]
      algorithm: HS256
      secret_file: {self.pki.path("hs.secret")}
      principal_prefix: "jwt:"
acl:
  - name: jwt-publishers
    principal: service:payment-service
    allow: [{{publish: "com.company.payment.*"}}]
  - name: hs
    principal: "jwt:*"
    allow: [{{publish: "**"}}]
""")

    def token(self, iss="https://idp.example", aud="evmesh", sub="service:payment-service",
              exp_in=300, key=None, alg="RS256", **extra):
        now = int(time.time())
        claims = {"iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + exp_in, **extra}
        return jwt.encode(claims, key or self.pki.rsa_private_pem(), algorithm=alg)

    def publish(self, token, type="com.company.payment.done"):
        return self.daemon.request("POST", "/", b"", {**binary_headers(type=type), **bearer(token)})

    def test_valid_tokens_publish(self):
        self.assertEqual(self.publish(self.token()).status, 202)
        hs = self.token(iss="https://hs.example", aud="other", sub="billing",
                        key=self.pki.hs_secret, alg="HS256")
        self.assertEqual(self.publish(hs, type="anything.at.all").status, 202)
        self.assertProblem(self.publish(self.token(), type="com.company.order.x"), 403)

    def test_bad_tokens_are_401_with_the_reason(self):
        cases = [
            (self.token(exp_in=-120), "expired at"),
            (self.token(aud="someone-else"), "audience not accepted"),
            (self.token(iss="https://evil.example"), "issuer not accepted"),
            (self.token(nbf=int(time.time()) + 600), "not valid before"),
            # HS256 signed with the RSA public key: the algorithm confusion forgery.
            (forge_hs256({"iss": "https://idp.example", "aud": "evmesh",
                          "sub": "service:payment-service", "exp": int(time.time()) + 300},
                         self.pki.rsa_public_pem().encode()),
             'algorithm "HS256" not accepted for issuer https://idp.example'),
            (self.token()[:-4] + "AAAA", "signature verification failed"),
            (self.token(iss="https://hs.example", key="wrong-secret-but-long-enough-000000",
                        alg="HS256"), "signature verification failed"),
            ("a.b.c", "a part is not valid base64url"),
        ]
        for token, reason in cases:
            with self.subTest(reason=reason):
                self.assertProblem(self.publish(token), 401, "unauthenticated", detail_contains=reason)


def forge_hs256(claims, secret):
    """An HS256 token signed with `secret` by hand: PyJWT refuses an RSA key as an HMAC
    secret, which is exactly the forgery the broker must refuse."""
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


class TlsAndMtls(PkiTestCase):

    def setUp(self):
        super().setUp()
        self.daemon = TlsDaemon(self.pki, f"""
http:
{self.mtls_tls_block(2)}auth:
  api_keys:
    - principal: ops
      hash: {hash_key(OPS_KEY)}
{self.MTLS_BY_CN}acl:
  - name: certs
    principal: "cert:orders"
    allow: [{{publish: "com.shop.**"}}]
  - name: ops
    principal: ops
    allow: [{{publish: "**"}}]
""")
        self.addCleanup(self.daemon.close)
        self.daemon.start()

    def post(self, context, type="com.shop.order.created", headers=None):
        return https_request(self.daemon.port, "POST", "/", context, b"",
                             {**binary_headers(type=type), **(headers or {})})

    def test_client_certificate_names_the_principal(self):
        self.assertEqual(self.post(tls_context(self.pki, client="client")).status, 202)
        res = self.post(tls_context(self.pki, client="client"), type="com.other.x")
        self.assertProblem(res, 403, detail_contains="principal 'cert:orders' may not publish")
        # Without a certificate: other credentials, else 401 (anonymous is off with an ACL).
        self.assertProblem(self.post(tls_context(self.pki)), 401, detail_contains="no credentials")
        self.assertEqual(self.post(tls_context(self.pki), headers=bearer(OPS_KEY)).status, 202)

    def test_untrusted_certificates_and_plain_http_are_refused(self):
        with self.assertRaises(OSError):  # ssl.SSLError (unknown ca) or a reset
            self.post(tls_context(self.pki, client="rogue"))
        with self.assertRaises(OSError):
            request(f"http://127.0.0.1:{self.daemon.port}", "GET", "/healthz", timeout=3)

    def test_evmeshctl_over_https_with_a_client_certificate(self):
        p = self.pki.path
        url = f"https://127.0.0.1:{self.daemon.port}"
        tls = ["--cacert", p("ca.crt"), "--cert", p("client.crt"), "--key", p("client.key")]
        out = evmeshctl("--url", url, *tls, "publish", "--type", "com.shop.paid", "--source", "/c", "--id", "m1")
        self.assertEqual((out.returncode, out.stdout.strip()), (0, "published m1"), out.stderr)
        out = evmeshctl("--url", url, "--cacert", p("ca.crt"), "publish", "--type", "com.shop.paid", "--source", "/c")
        self.assertEqual(out.returncode, 2)
        self.assertIn("server answered 401", out.stderr)  # no certificate, no token
        out = evmeshctl("--url", url, "--cacert", p("rogue-ca.crt"), "subscriptions", "list")
        self.assertEqual(out.returncode, 2)
        self.assertIn("TLS handshake with " + url + " failed: certificate verify failed", out.stderr)

    def test_curl_with_client_certificate(self):
        p = self.pki.path
        from harness import curl
        res = curl(["--cacert", p("ca.crt"), "--cert", p("client.crt"), "--key", p("client.key"),
                    "-X", "POST", f"https://127.0.0.1:{self.daemon.port}/",
                    "-H", "ce-specversion: 1.0", "-H", "ce-id: 1", "-H", "ce-source: /c",
                    "-H", "ce-type: com.shop.paid"])
        self.assertEqual(res.status, 202, res)


if __name__ == "__main__":
    unittest.main()
