"""MQTT 5.0 enhanced authentication (docs/protocols.md, "Enhanced authentication"):
evmeshd offers no authentication method, and says so exactly as the specification
asks — raw packets, reason codes and reason strings checked."""
import unittest

from harness import EvmeshTestCase
from mqtt_clients import (MQTT_SETS, PINGREQ, Raw, connect, mqtt_port, p_str, packet, props)


def auth(reason, *items):
    return packet(0xF0, bytes([reason]) + props(*items))


def p_bin(pid, data):
    return bytes([pid]) + len(data).to_bytes(2, "big") + data


class EnhancedAuth(EvmeshTestCase):
    sets = MQTT_SETS

    def setUp(self):
        super().setUp()
        self.port = mqtt_port(self.daemon)

    def raw(self):
        r = Raw(self.port)
        self.addCleanup(r.close)
        return r

    def connected(self, client_id):
        r = self.raw()
        r.send(connect(client_id))
        self.assertEqual(r.recv().reason, 0)
        return r

    def test_connect_with_an_authentication_method_gets_0x8c(self):
        r = self.raw()
        r.send(connect("scram", properties=props(p_str(0x15, "SCRAM-SHA-256"), p_bin(0x16, b"n,,n=u,r=abc"))))
        got = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in got], [(2, 0x8C)])
        self.assertIn("'SCRAM-SHA-256' is not supported", got[0].reason_string())

    def test_connect_with_authentication_data_but_no_method_is_a_protocol_error(self):
        r = self.raw()
        r.send(connect("data", properties=props(p_bin(0x16, b"x"))))
        got = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in got], [(2, 0x82)])
        self.assertIn("authentication data without an authentication method", got[0].reason_string())

    def test_reauthentication_without_a_method_at_connect_is_a_protocol_error(self):
        r = self.connected("reauth")
        r.send(auth(0x19, p_str(0x15, "SCRAM-SHA-256"), p_bin(0x16, b"n,,n=u,r=abc")))
        got = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in got], [(14, 0x82)])
        self.assertIn("CONNECT used no authentication method", got[0].reason_string())

    def test_malformed_auth_packets(self):
        cases = {
            "reason code not allowed in AUTH": (auth(0x87, p_str(0x15, "X")), 0x81, "0x87"),
            "reserved flags": (packet(0xF1, b"\x18\x00"), 0x81, "reserved flags"),
            "property not allowed in AUTH": (auth(0x18, p_str(0x15, "X"), bytes([0x23, 0, 1])), 0x81,
                                             "not allowed"),
            "no authentication method": (auth(0x18), 0x82, "no authentication method"),
            "truncated": (packet(0xF0, b"\x18\x05\x15\x00"), 0x81, "AUTH"),
        }
        for name, (data, code, says) in cases.items():
            with self.subTest(name):
                r = self.connected("bad-auth")
                r.send(data)
                got = r.expect_closed()
                self.assertEqual([(p.type, p.reason) for p in got], [(14, code)])
                self.assertIn(says, got[0].reason_string())
        self.connected("fine").send(PINGREQ)  # the broker still serves others

    def test_auth_before_connect_or_in_3_1_1_closes_silently(self):
        r = self.raw()
        r.send(auth(0x18, p_str(0x15, "X")))
        self.assertEqual(r.expect_closed(), [])
        v4 = self.raw()
        v4.send(connect("v4", version=4))
        self.assertEqual(v4.recv().type, 2)
        v4.send(packet(0xF0))
        self.assertEqual(v4.expect_closed(), [])


if __name__ == "__main__":
    unittest.main()
