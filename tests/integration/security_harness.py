"""Helpers for the security tests: a throw-away PKI made with the openssl CLI (a CA, a
server certificate for 127.0.0.1, client certificates, a rogue CA), JWT signing keys,
API key hashes from evmeshctl, and HTTPS requests with the stdlib ssl module.
"""

import http.client
import json
import os
import ssl
import subprocess
import tempfile
import urllib.parse

from harness import Daemon, EvmeshTestCase, Response, built_binary


def openssl(*args, cwd):
    out = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed: {out.stderr}")


class Pki:
    """Files under one temporary directory; paths as attributes."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="evmesh-pki-")
        d = self.dir = self.tmp.name
        self._ca("ca")
        self._ca("rogue-ca")
        self._leaf("server", "ca", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost")
        self._leaf("client", "ca", "/O=Example/CN=orders", None)
        self._leaf("rogue", "rogue-ca", "/CN=orders", None)
        # JWT: an RSA key pair (RS256) and a shared secret (HS256).
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                "-out", "jwt.key", cwd=d)
        openssl("pkey", "-in", "jwt.key", "-pubout", "-out", "jwt.pub", cwd=d)
        self.hs_secret = "an-hs256-secret-of-at-least-32-bytes!"
        with open(self.path("hs.secret"), "w") as f:
            f.write(self.hs_secret + "\n")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _ca(self, name):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=self.dir)

    def _leaf(self, name, ca, subject, san):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=self.dir)
        extra = []
        if san:
            with open(self.path(f"{name}.ext"), "w") as f:
                f.write(san + "\n")
            extra = ["-extfile", f"{name}.ext"]
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
                "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", *extra, cwd=self.dir)

    def server_cert(self, name, subject):
        """Another certificate for 127.0.0.1 signed by the CA (a rotated one)."""
        self._leaf(name, "ca", subject, "subjectAltName=IP:127.0.0.1,DNS:localhost")

    def rsa_private_pem(self):
        with open(self.path("jwt.key")) as f:
            return f.read()

    def rsa_public_pem(self):
        with open(self.path("jwt.pub")) as f:
            return f.read()

    def close(self):
        self.tmp.cleanup()


def evmeshctl(*args, input=None, env=None, timeout=20):
    path = built_binary("evmeshctl", "EVMESHCTL")
    return subprocess.run([path, *args], capture_output=True, text=True, input=input,
                          env=dict(os.environ, **(env or {})), timeout=timeout)


def hash_key(key):
    """The sha256:<hex> hash of `key`, as `evmeshctl hash-key KEY` prints it."""
    out = evmeshctl("hash-key", key)
    if out.returncode != 0:
        raise AssertionError(out.stderr)
    return out.stdout.strip()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def tls_context(pki, client=None):
    """A client context trusting our CA; `client` names a certificate pair to present."""
    ctx = ssl.create_default_context(cafile=pki.path("ca.crt"))
    if client:
        ctx.load_cert_chain(pki.path(f"{client}.crt"), pki.path(f"{client}.key"))
    return ctx


def https_request(port, method, path, context, body=None, headers=None, timeout=10.0):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=timeout)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        data = res.read()
        return Response(res.status, {k.lower(): v for k, v in res.getheaders()}, data)
    finally:
        conn.close()


def query(**params):
    return urllib.parse.urlencode(params)


class PkiTestCase(EvmeshTestCase):
    """A test case with its own throw-away CA and certificates (`self.pki`), made once per
    class; each test starts the daemons it needs."""

    start_daemon = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki = Pki()

    @classmethod
    def tearDownClass(cls):
        cls.pki.close()
        super().tearDownClass()

    def mtls_tls_block(self, indent):
        """A listener's `tls:` mapping with this CA's server certificate and client CA,
        each line indented by `indent` spaces (the mTLS tests' listeners)."""
        p, pad = self.pki.path, " " * indent
        return (f"{pad}tls:\n{pad}  cert_file: {p('server.crt')}\n{pad}  key_file: {p('server.key')}\n"
                f"{pad}  client_ca_file: {p('ca.crt')}\n")

    # auth.mtls: a client certificate's CN names the principal, as "cert:CN".
    MTLS_BY_CN = '  mtls:\n    principal: cn\n    prefix: "cert:"\n'


class TlsDaemon(Daemon):
    """evmeshd whose main listener speaks HTTPS (http.tls): ready when /readyz answers."""

    def __init__(self, pki, *args, **kw):
        super().__init__(*args, **kw)
        self.pki = pki

    def _ready(self):
        try:
            return https_request(self.port, "GET", "/readyz", tls_context(self.pki), timeout=1).status == 200
        except (OSError, ssl.SSLError):
            return False
