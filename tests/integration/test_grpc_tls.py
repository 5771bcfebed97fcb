"""gRPC over TLS: grpc.tls.cert_file/key_file (server authentication) and
client_ca_file (client certificates required), with certificates made by openssl at
test time and Python grpcio secure channels; plaintext clients are refused; bad TLS
settings fail at start-up naming the key."""

import os
import shutil
import subprocess
import tempfile
import unittest

from grpc_harness import GrpcTestCase, grpc
from harness import evmeshd_path

TARGET_NAME = "localhost"


def make_cert(directory, name):
    """A self-signed EC certificate for localhost / 127.0.0.1: (cert path, key path)."""
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    f"/CN={TARGET_NAME}", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def read(path):
    with open(path, "rb") as f:
        return f.read()


class TlsCase(GrpcTestCase):
    client_certs = False

    @classmethod
    def setUpClass(cls):
        if not shutil.which("openssl"):
            raise unittest.SkipTest("openssl not found")
        cls.dir = tempfile.mkdtemp(prefix="evmesh-tls-")
        cls.server_cert, cls.server_key = make_cert(cls.dir, "server")
        cls.client_cert, cls.client_key = make_cert(cls.dir, "client")
        tls = f"cert_file: {cls.server_cert}, key_file: {cls.server_key}"
        if cls.client_certs:
            tls += f", client_ca_file: {cls.client_cert}"  # the self-signed client cert is its own CA
        cls.sets = (f"grpc.tls={{{tls}}}",)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.channel.close()  # the harness's plaintext channel

    def secure_stub(self, with_client_cert):
        creds = grpc.ssl_channel_credentials(
            root_certificates=read(self.server_cert),
            private_key=read(self.client_key) if with_client_cert else None,
            certificate_chain=read(self.client_cert) if with_client_cert else None)
        channel = grpc.secure_channel(f"127.0.0.1:{self.grpc_port}", creds,
                                      options=[("grpc.ssl_target_name_override", TARGET_NAME)])
        self.addCleanup(channel.close)
        return self.pb_grpc.BrokerStub(channel)

    def assert_refused(self, stub):
        with self.assertRaises(grpc.RpcError) as e:
            stub.Publish(self.pb.PublishRequest(event=self.event()), timeout=5)
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAVAILABLE)


class ServerTlsTest(TlsCase):
    def test_secure_channel_publishes_and_plaintext_is_refused(self):
        self.assertIn("(TLS)", self.daemon.output())
        sink = self.make_sink()
        self.subscribe(sink.url)
        res = self.secure_stub(False).Publish(self.pb.PublishRequest(event=self.event(id="tls")),
                                              timeout=5)
        self.assertEqual(res.deliveries, 1)
        self.assertEqual(sink.wait_for(1)[0].ce("id"), "tls")
        plaintext = grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}")
        self.addCleanup(plaintext.close)
        self.assert_refused(self.pb_grpc.BrokerStub(plaintext))


class ClientCertificateTest(TlsCase):
    client_certs = True

    def test_client_certificate_is_required(self):
        self.assertIn("(TLS, client certificates required)", self.daemon.output())
        res = self.secure_stub(True).Publish(self.pb.PublishRequest(event=self.event()), timeout=5)
        self.assertEqual(res.deliveries, 0)
        self.assert_refused(self.secure_stub(False))


class TlsConfigErrorTest(unittest.TestCase):
    def setUp(self):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        self.dir = d.name
        self.config = os.path.join(d.name, "evmesh.yaml")
        open(self.config, "w").close()

    def check(self, tls, message):
        out = subprocess.run([evmeshd_path(), "--config", self.config, "--check-config",
                              "--set", f"grpc.tls={tls}"], capture_output=True, text=True, timeout=10)
        self.assertNotEqual(out.returncode, 0, out)
        self.assertIn(message, out.stderr)

    def test_bad_settings_name_the_key(self):
        self.check("{cert_file: /nonexistent/cert.pem, key_file: /nonexistent/key.pem}",
                   "grpc.tls.cert_file: cannot read '/nonexistent/cert.pem': No such file or directory")
        self.check("{cert_file: /etc/hostname}",
                   "grpc.tls: cert_file and key_file go together")
        self.check("{certfile: x}", "grpc.tls.certfile: unknown key (grpc.tls keys: cert_file, "
                   "key_file, client_ca_file)")

    def test_a_file_that_is_not_pem_fails_at_start(self):
        junk = os.path.join(self.dir, "junk.pem")
        with open(junk, "w") as f:
            f.write("not a certificate\n")
        out = subprocess.run([evmeshd_path(), "--config", self.config, "--set", "http.port=0",
                              "--set", "http.host=127.0.0.1", "--set", "grpc.host=127.0.0.1",
                              "--set", "grpc.port=0",
                              "--set", f"grpc.tls={{cert_file: {junk}, key_file: {junk}}}"],
                             capture_output=True, text=True, timeout=10)
        self.assertNotEqual(out.returncode, 0, out)
        self.assertIn(f"grpc.tls.cert_file: '{junk}' is not a PEM file", out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
