"""Certificate rotation without a restart (docs/operations.md): the HTTP, admin and MQTT
listeners present the new certificate to new connections once the files change (file
watch) or on POST /admin/reload; open connections keep going; a certificate that does
not match its key keeps the old one and the reload status names the key and file. gRPC
keeps its start-up certificate (a restart)."""
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import unittest

import paho.mqtt.client as paho

from harness import binary_headers, wait_until
from mqtt_clients import MQTT_SETS, mqtt_port
from security_harness import PkiTestCase, TlsDaemon, bearer, evmeshctl, hash_key, https_request, tls_context

ADMIN_KEY = "admin-key-0123456789"
ADMIN_LISTENING = re.compile(r"admin listening on 127\.0\.0\.1:(\d+)")
GRPC_LISTENING = re.compile(r"grpc listening on 127\.0\.0\.1:(\d+)")


def der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


class CertificateRotation(PkiTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki.server_cert("rotated", "/O=Rotated/CN=127.0.0.1")

    def setUp(self):
        super().setUp()
        self.dir = os.path.join(self.pki.dir, f"live-{self._testMethodName}")
        os.makedirs(self.dir)
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.install("server")
        crt, key, ca = (os.path.join(self.dir, n) for n in ("tls.crt", "tls.key", "ca.crt"))
        shutil.copy(self.pki.path("ca.crt"), ca)
        tls = f"{{cert_file: {crt}, key_file: {key}, client_ca_file: {ca}}}"
        self.daemon = TlsDaemon(self.pki, f"""
http:
  tls: {tls}
mqtt:
  tls: {tls}
grpc:
  tls: {{cert_file: {crt}, key_file: {key}}}
admin:
  listen: 127.0.0.1:0
  principals: [admin]
  tls: {tls}
auth:
  anonymous: true
  api_keys:
    - principal: admin
      hash: {hash_key(ADMIN_KEY)}
""", MQTT_SETS)
        self.addCleanup(self.daemon.close)
        self.daemon.start()
        self.admin_port = wait_until(lambda: (m := ADMIN_LISTENING.search(self.daemon.output())) and
                                     int(m.group(1)), 10, what="admin listening")
        self.mqtt_port = mqtt_port(self.daemon)
        self.grpc_port = wait_until(lambda: (m := GRPC_LISTENING.search(self.daemon.output())) and
                                    int(m.group(1)), 10, what="grpc listening")

    def install(self, name, key=None):
        """Writes name.crt / (key or name).key over the live files, each by rename."""
        for src, dst in ((f"{name}.crt", "tls.crt"), (f"{key or name}.key", "tls.key")):
            tmp = os.path.join(self.dir, dst + ".tmp")
            shutil.copy(self.pki.path(src), tmp)
            os.replace(tmp, os.path.join(self.dir, dst))

    def presented(self, port):
        ctx = tls_context(self.pki)
        ctx.set_alpn_protocols(["h2", "http/1.1"])  # gRPC wants h2
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                return s.getpeercert(binary_form=True)

    def admin(self, method, path):
        return https_request(self.admin_port, method, path, tls_context(self.pki), headers=bearer(ADMIN_KEY))

    def status(self):
        return self.admin("GET", "/admin/reload").json()

    def ports(self):
        return {"http": self.daemon.port, "admin": self.admin_port, "mqtt": self.mqtt_port}

    def test_rotated_files_are_presented_to_new_connections_and_open_ones_keep_going(self):
        old, new = der(self.pki.path("server.crt")), der(self.pki.path("rotated.crt"))
        for name, port in self.ports().items():
            self.assertEqual(self.presented(port), old, name)
        # Open before the rotation: an HTTPS keep-alive connection and an MQTT session.
        keep = http.client.HTTPSConnection("127.0.0.1", self.daemon.port, context=tls_context(self.pki), timeout=10)
        self.addCleanup(keep.close)
        keep.request("POST", "/", b"", binary_headers(id="before"))
        res = keep.getresponse()
        res.read()
        self.assertEqual(res.status, 202)
        mqtt = paho.Client(client_id="kept", protocol=paho.MQTTv5)
        mqtt.tls_set(ca_certs=self.pki.path("ca.crt"))
        mqtt.connect("127.0.0.1", self.mqtt_port)
        mqtt.loop_start()
        self.addCleanup(mqtt.loop_stop)
        self.addCleanup(mqtt.disconnect)

        generation = self.status()["generation"]
        self.install("rotated")  # the file watch reloads
        status = wait_until(lambda: (s := self.status())["generation"] > generation and s, 10,
                            what="a reload after the certificate change")
        self.assertTrue(status["ok"], status)
        for key in ("http.tls", "admin.tls", "mqtt.tls"):
            self.assertIn(f"{key}: certificate reloaded", status["changes"])
        for name, port in self.ports().items():
            self.assertEqual(self.presented(port), new, name)

        # gRPC's TLS is built once at start-up (docs/security.md): the old certificate until a restart.
        self.assertEqual(self.presented(self.grpc_port), old)

        keep.request("POST", "/", b"", binary_headers(id="after"))
        res = keep.getresponse()
        res.read()
        self.assertEqual(res.status, 202)
        info = mqtt.publish("t/after", b"x", qos=1)
        info.wait_for_publish(10)
        self.assertTrue(info.is_published())
        # evmeshctl over https to the admin listener sees the rotated certificate's CA.
        out = evmeshctl("--url", f"https://127.0.0.1:{self.admin_port}", "--cacert", self.pki.path("ca.crt"),
                        "--token", ADMIN_KEY, "admin", "config")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["pending_restart"], [])

    def test_a_certificate_that_does_not_match_its_key_keeps_the_old_one(self):
        old, new = der(self.pki.path("server.crt")), der(self.pki.path("rotated.crt"))
        generation = self.status()["generation"]
        self.install("rotated", key="server")
        status = wait_until(lambda: (s := self.status())["ok"] is False and s, 10, what="a refused reload")
        self.assertEqual(status["generation"], generation)
        self.assertIn("http.tls.key_file", status["error"])
        self.assertIn("tls.key': key values mismatch", status["error"])
        for name, port in self.ports().items():
            self.assertEqual(self.presented(port), old, name)
        # Fixing the key file (and asking explicitly, as an operator would) takes it.
        self.install("rotated")
        self.assertEqual(self.admin("POST", "/admin/reload").status, 202)
        wait_until(lambda: self.status()["ok"] and self.presented(self.daemon.port) == new, 10,
                   what="the fixed certificate in use")
        for name, port in self.ports().items():
            self.assertEqual(self.presented(port), new, name)


if __name__ == "__main__":
    unittest.main()
