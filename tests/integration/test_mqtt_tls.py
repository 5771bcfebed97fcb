"""MQTT over TLS on the native listener (mqtt.tls, docs/security.md): mosquitto_pub /
mosquitto_sub with --cafile (and --cert/--key for client certificates) and paho with
tls_set; the certificate's subject names the principal; an untrusted certificate fails
the handshake, no certificate and no password is not authorised, plain TCP gets nothing."""
import shutil
import ssl
import subprocess
import unittest

import paho.mqtt.client as paho

from mqtt_clients import MQTT_SETS, Raw, connect, mqtt_port
from security_harness import PkiTestCase, hash_key

DEVICE_KEY = "device-key-0123456789"


class MqttTls(PkiTestCase):

    def setUp(self):
        super().setUp()
        self.daemon = self.start_evmeshd(f"""
mqtt:
  topic_types:
    - {{filter: "orders/#", type: "com.shop.order.created"}}
    - {{filter: "payments/#", type: "com.bank.payment.done"}}
{self.mtls_tls_block(2)}auth:
  api_keys:
    - principal: device
      hash: {hash_key(DEVICE_KEY)}
{self.MTLS_BY_CN}acl:
  - name: certs
    principal: "cert:orders"
    allow: [{{publish: "com.shop.**"}}, {{subscribe: "**"}}]
  - name: devices
    principal: device
    allow: [{{publish: "**"}}]
""", MQTT_SETS)
        self.port = mqtt_port(self.daemon)
        self.assertIn("(TLS, client certificates)", self.daemon.output())

    def mosquitto(self, tool, *args, cert=True, timeout=15):
        p = self.pki.path
        cmd = [shutil.which(tool), "-h", "127.0.0.1", "-p", str(self.port), "--cafile", p("ca.crt"), *args]
        if cert:
            cmd += ["--cert", p(f"{cert if isinstance(cert, str) else 'client'}.crt"),
                    "--key", p(f"{cert if isinstance(cert, str) else 'client'}.key")]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def paho_tls(self, client=None, version=paho.MQTTv5):
        p = self.pki.path
        c = paho.Client(client_id="", protocol=version)
        c.tls_set(ca_certs=p("ca.crt"), certfile=p(f"{client}.crt") if client else None,
                  keyfile=p(f"{client}.key") if client else None, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        return c

    def test_mosquitto_clients_with_a_client_certificate(self):
        sub = subprocess.Popen(
            [shutil.which("mosquitto_sub"), "-h", "127.0.0.1", "-p", str(self.port), "-V", "mqttv5",
             "--cafile", self.pki.path("ca.crt"), "--cert", self.pki.path("client.crt"),
             "--key", self.pki.path("client.key"), "-t", "orders/#", "-C", "1", "-W", "15", "-v"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: sub.poll() is None and sub.kill())
        self.daemon.wait_for_log(r"principal 'cert:orders'")  # the subscriber's CONNECT
        pub = self.mosquitto("mosquitto_pub", "-V", "mqttv5", "-q", "1", "-t", "orders/1", "-m", '{"n":1}')
        self.assertEqual(pub.returncode, 0, pub.stderr)
        out, err = sub.communicate(timeout=20)
        self.assertEqual(sub.returncode, 0, err)
        self.assertEqual(out.strip(), 'orders/1 {"n":1}')

    def test_password_over_tls_without_a_client_certificate(self):
        pub = self.mosquitto("mosquitto_pub", "-V", "mqttv311", "-u", "device", "-P", DEVICE_KEY,
                             "-q", "1", "-t", "payments/1", "-m", "x", cert=False)
        self.assertEqual(pub.returncode, 0, pub.stderr)
        self.daemon.wait_for_log(r"principal 'device'")

    def test_paho_tls_set_and_the_certificate_principal_meets_the_acl(self):
        c = self.paho_tls("client")
        results = []
        c.on_connect = lambda cl, u, f, rc, props=None: results.append(rc)
        c.connect("127.0.0.1", self.port)
        c.loop_start()
        self.addCleanup(c.loop_stop)
        self.addCleanup(c.disconnect)
        info = c.publish("orders/2", b"{}", qos=1)
        info.wait_for_publish(10)
        self.assertTrue(info.is_published())
        self.assertEqual(results, [0])
        # cert:orders may not publish payments: the daemon refuses and logs it.
        c.publish("payments/2", b"{}", qos=1).wait_for_publish(10)
        self.daemon.wait_for_log(r"denied: principal 'cert:orders' publish type 'com.bank.payment.done'")

    def test_untrusted_certificate_fails_the_handshake(self):
        pub = self.mosquitto("mosquitto_pub", "-t", "orders/3", "-m", "x", cert="rogue")
        self.assertNotEqual(pub.returncode, 0)
        c = self.paho_tls("rogue")
        with self.assertRaises((ssl.SSLError, OSError)):
            c.connect("127.0.0.1", self.port)
            c.loop_forever(timeout=2, retry_first_connection=False)
        self.daemon.wait_for_log(r"TLS handshake failed")

    def test_no_certificate_and_no_password_is_not_authorised(self):
        pub = self.mosquitto("mosquitto_pub", "-V", "mqttv5", "-t", "orders/4", "-m", "x", cert=False)
        self.assertNotEqual(pub.returncode, 0)
        self.assertIn("not authori", pub.stderr.lower())

    def test_plain_tcp_on_the_tls_port_gets_no_connack(self):
        r = Raw(self.port)
        self.addCleanup(r.close)
        r.send(connect("plain", version=5))
        got = r.expect_closed()  # at most a TLS alert, never a CONNACK
        self.assertFalse([p for p in got if p.first == 0x20], got)


if __name__ == "__main__":
    unittest.main()
