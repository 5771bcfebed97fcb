"""MQTT 5.0 enhanced authentication (docs/protocols.md, "Enhanced authentication"):
SCRAM-SHA-256 against an auth.api_keys pbkdf2-sha256 key (CONNECT and
re-authentication), computed here by a client of our own from hashlib/hmac; every other
method and every malformed or out-of-place AUTH gets the reason code the specification
asks for — raw packets, reason codes and reason strings checked."""
import base64
import hashlib
import hmac
import os
import struct
import unittest

from harness import EvmeshTestCase
from mqtt_clients import (MQTT_SETS, PINGREQ, Raw, connect, mqtt_port, p_str, packet, props, publish,
                          subscribe)

SCRAM = "SCRAM-SHA-256"
KEYS = {"device": "device-key-1", "other": "other-key-1"}


def pbkdf2_hash(secret, iterations=4096):
    salt = os.urandom(16)
    dk = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations, 32)
    return f"pbkdf2-sha256${iterations}${salt.hex()}${dk.hex()}"


def b64(data):
    return base64.b64encode(data).decode()


class ScramClient:
    """RFC 5802 client side, no channel binding."""

    def __init__(self, user, password):
        self.password = password
        self.first_bare = f"n={user},r={b64(os.urandom(18))}"

    def first(self):
        return ("n,," + self.first_bare).encode()

    def final(self, server_first):
        server_first = server_first.decode()
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), base64.b64decode(attrs["s"]),
                                     int(attrs["i"]), 32)
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        without_proof = f"c=biws,r={attrs['r']}"
        auth_message = f"{self.first_bare},{server_first},{without_proof}".encode()
        signature = hmac.new(hashlib.sha256(client_key).digest(), auth_message, "sha256").digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = hmac.new(salted, b"Server Key", "sha256").digest()
        self.expected = ("v=" + b64(hmac.new(server_key, auth_message, "sha256").digest())).encode()
        return f"{without_proof},p={b64(proof)}".encode()


def properties_of(p):
    """The property block of a CONNACK or AUTH from us, as {id: value}."""
    body = p.body[2:] if p.type == 2 else p.body[1:]
    length, shift, i = 0, 0, 0
    while True:
        length |= (body[i] & 0x7F) << shift
        shift += 7
        i += 1
        if not body[i - 1] & 0x80:
            break
    block, out, j = body[i:i + length], {}, 0
    while j < len(block):
        pid = block[j]
        j += 1
        if pid in (0x15, 0x16, 0x1F, 0x12):
            n = struct.unpack("!H", block[j:j + 2])[0]
            out[pid] = block[j + 2:j + 2 + n]
            j += 2 + n
        elif pid in (0x21, 0x22):
            out[pid] = struct.unpack("!H", block[j:j + 2])[0]
            j += 2
        elif pid in (0x11, 0x27):
            out[pid] = struct.unpack("!I", block[j:j + 4])[0]
            j += 4
        else:
            raise AssertionError(f"unexpected property 0x{pid:02x} in {p}")
    return out


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

    def test_connect_with_an_unsupported_method_gets_0x8c(self):
        r = self.raw()
        r.send(connect("krb", properties=props(p_str(0x15, "GS2-KRB5"), p_bin(0x16, b"x"))))
        got = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in got], [(2, 0x8C)])
        self.assertIn("'GS2-KRB5' is not supported (only SCRAM-SHA-256)", got[0].reason_string())

    def test_connect_with_authentication_data_but_no_method_is_a_protocol_error(self):
        r = self.raw()
        r.send(connect("data", properties=props(p_bin(0x16, b"x"))))
        got = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in got], [(2, 0x82)])
        self.assertIn("authentication data without an authentication method", got[0].reason_string())

    def test_reauthentication_without_a_method_at_connect_is_a_protocol_error(self):
        r = self.connected("reauth")
        r.send(auth(0x19, p_str(0x15, SCRAM), p_bin(0x16, b"n,,n=u,r=abc")))
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


class Scram(EvmeshTestCase):
    sets = MQTT_SETS

    @classmethod
    def setUpClass(cls):
        keys = "".join(f"    - principal: {p}\n      hash: \"{pbkdf2_hash(k)}\"\n" for p, k in KEYS.items())
        cls.config = f"auth:\n  api_keys:\n{keys}"

    def setUp(self):
        super().setUp()
        self.port = mqtt_port(self.daemon)

    def begin(self, client_id, scram):
        """CONNECT with the client-first-message; returns the socket and the AUTH answer."""
        r = Raw(self.port)
        self.addCleanup(r.close)
        r.send(connect(client_id, properties=props(p_str(0x15, SCRAM), p_bin(0x16, scram.first()))))
        return r, r.recv()

    def login(self, client_id, user, key):
        scram = ScramClient(user, key)
        r, challenge = self.begin(client_id, scram)
        self.assertEqual((challenge.type, challenge.reason), (15, 0x18), challenge)
        ps = properties_of(challenge)
        self.assertEqual(ps[0x15], SCRAM.encode())
        r.send(auth(0x18, p_str(0x15, SCRAM), p_bin(0x16, scram.final(ps[0x16]))))
        return r, scram, r.recv()

    def test_connect_with_scram_sha_256(self):
        r, scram, ack = self.login("scram-ok", "device", KEYS["device"])
        self.assertEqual((ack.type, ack.reason), (2, 0), ack)
        ps = properties_of(ack)
        self.assertEqual(ps[0x15], SCRAM.encode())
        self.assertEqual(ps[0x16], scram.expected)  # the server proved it knows the key too
        self.daemon.wait_for_log(r"'scram-ok': connected, MQTT 5.0.*principal 'device'")
        r.send(subscribe([("s/#", 0)], pid=1))
        self.assertEqual(r.recv().type, 9)
        r.send(publish("s/1", "hi"))
        self.assertEqual(r.recv().publish_fields()[5], b"hi")

    def test_wrong_key_and_unknown_user_get_0x87_alike(self):
        for user, key in (("device", "not-the-key"), ("nobody", "whatever")):
            with self.subTest(user):
                r, _, ack = self.login("scram-bad", user, key)
                self.assertEqual((ack.type, ack.reason), (2, 0x87), ack)
                self.assertIn("SCRAM-SHA-256: unknown user or wrong key", ack.reason_string())
                self.assertEqual(r.expect_closed(), [])
        self.daemon.wait_for_log(r"denied: mqtt login of user 'nobody' unauthenticated: unknown user or wrong key")

    def test_bad_client_first_message_gets_0x87_naming_it(self):
        r = Raw(self.port)
        self.addCleanup(r.close)
        r.send(connect("scram-cb", properties=props(p_str(0x15, SCRAM), p_bin(0x16, b"p=tls-unique,,n=device,r=a"))))
        got = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in got], [(2, 0x87)])
        self.assertIn("channel binding is not supported", got[0].reason_string())

    def test_only_auth_may_follow_connect_until_the_exchange_ends(self):
        r, challenge = self.begin("scram-ping", ScramClient("device", KEYS["device"]))
        self.assertEqual(challenge.type, 15)
        r.send(PINGREQ)
        got = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in got], [(2, 0x82)])
        r, challenge = self.begin("scram-other", ScramClient("device", KEYS["device"]))
        r.send(auth(0x18, p_str(0x15, "PLAIN"), p_bin(0x16, b"x")))
        got = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in got], [(2, 0x82)])
        self.assertIn("AUTH method 'PLAIN' is not CONNECT's 'SCRAM-SHA-256'", got[0].reason_string())

    def test_reauthentication(self):
        r, _, ack = self.login("scram-re", "device", KEYS["device"])
        self.assertEqual(ack.reason, 0)
        again = ScramClient("device", KEYS["device"])
        r.send(auth(0x19, p_str(0x15, SCRAM), p_bin(0x16, again.first())))
        challenge = r.recv()
        self.assertEqual((challenge.type, challenge.reason), (15, 0x18))
        r.send(PINGREQ)  # other packets keep flowing during re-authentication
        self.assertEqual(r.recv().type, 13)
        r.send(auth(0x18, p_str(0x15, SCRAM), p_bin(0x16, again.final(properties_of(challenge)[0x16]))))
        done = r.recv()
        self.assertEqual((done.type, done.reason), (15, 0), done)
        self.assertEqual(properties_of(done)[0x16], again.expected)
        # As another user: refused, the connection ends.
        other = ScramClient("other", KEYS["other"])
        r.send(auth(0x19, p_str(0x15, SCRAM), p_bin(0x16, other.first())))
        challenge = r.recv()
        r.send(auth(0x18, p_str(0x15, SCRAM), p_bin(0x16, other.final(properties_of(challenge)[0x16]))))
        got = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in got], [(14, 0x87)])
        self.assertIn("re-authentication as 'other', but the connection is 'device'", got[0].reason_string())

    def test_stray_auth_after_a_scram_connect_is_a_protocol_error(self):
        for reason_code, says in ((0x18, "without an authentication exchange in progress"),
                                  (0x00, "a client does not send AUTH 0x00")):
            with self.subTest(reason_code):
                r, _, ack = self.login("scram-stray", "device", KEYS["device"])
                self.assertEqual(ack.reason, 0)
                r.send(auth(reason_code, p_str(0x15, SCRAM)))
                got = r.expect_closed()
                self.assertEqual([(p.type, p.reason) for p in got], [(14, 0x82)])
                self.assertIn(says, got[0].reason_string())


if __name__ == "__main__":
    unittest.main()
