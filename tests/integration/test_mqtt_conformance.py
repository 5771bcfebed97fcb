"""What an MQTT conformance suite checks beyond plain publish/subscribe
(docs/protocols.md, "Conformance"), with hand-made packets where a client library
would hide the bytes:
- a SUBSCRIBE the ACL denies gets 0x87 (5.0) / 0x80 (3.1.1), with the config the
  docs give for running an interoperability suite against evmeshd;
- Server Keep Alive (mqtt.max_keep_alive) is sent to 5.0 clients and enforced;
  3.1.1 clients keep their own keep alive;
- a client exceeding Receive Maximum gets DISCONNECT 0x93 and can read it although it
  goes on sending: the server closes gracefully, never with a reset."""
import struct
import time
import unittest

from harness import EvmeshTestCase
from mqtt_clients import (PINGREQ, MQTT_SETS, Collector, Raw, ack, connect, mqtt_port, p_u32, props,
                          publish, subscribe)
from test_docs_examples import fenced_block_after, read_doc

# The properties of a 5.0 CONNACK: {identifier: raw value bytes} for the few we read.
SERVER_KEEP_ALIVE = 0x13


def connack_property(p, ident):
    """The value of a 2-byte property (Server Keep Alive) in a 5.0 CONNACK, or None."""
    body = p.body
    i, length, shift = 2, 0, 0
    while True:  # the property length, a variable byte integer
        b = body[i]
        i += 1
        length |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    end = i + length
    while i < end:
        pid = body[i]
        i += 1
        if pid == ident:
            return struct.unpack("!H", body[i:i + 2])[0]
        # Skip the others by type: byte, u16, u32, string/binary, string pair, varint.
        if pid in (0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A):
            i += 1
        elif pid in (0x13, 0x21, 0x22, 0x23):
            i += 2
        elif pid in (0x02, 0x11, 0x18, 0x27):
            i += 4
        elif pid in (0x03, 0x08, 0x09, 0x12, 0x15, 0x16, 0x1A, 0x1C, 0x1F):
            i += 2 + struct.unpack("!H", body[i:i + 2])[0]
        elif pid == 0x26:
            for _ in range(2):
                i += 2 + struct.unpack("!H", body[i:i + 2])[0]
        else:
            raise AssertionError(f"unexpected CONNACK property 0x{pid:02x} in {p}")
    return None


class RawCase(EvmeshTestCase):
    sets = MQTT_SETS

    def setUp(self):
        super().setUp()
        self.port = mqtt_port(self.daemon)

    def raw(self, client_id, version=5, **kw):
        r = Raw(self.port)
        self.addCleanup(r.close)
        r.send(connect(client_id, version=version, **kw))
        r.connack = r.recv()
        self.assertEqual((r.connack.type, r.connack.reason), (2, 0), r.connack)
        return r


class DeniedSubscribe(RawCase):
    """The configuration docs/protocols.md gives for the Paho interoperability suite."""
    config = fenced_block_after(read_doc("docs/protocols.md"), "<!-- example: mqtt-interop -->", "yaml")

    def test_denied_filter_gets_0x87_in_5_and_0x80_in_3_1_1_others_granted(self):
        for version, denied in ((5, 0x87), (4, 0x80)):
            with self.subTest(version=version):
                r = self.raw(f"sub{version}", version=version)
                r.send(subscribe([("test/nosubscribe", 2), ("test/other", 1), ("$share/g/test/nosubscribe", 0),
                                  ("test/#", 0)], pid=7, version=version))
                suback = r.recv()
                self.assertEqual(suback.type, 9, suback)
                self.assertEqual(struct.unpack("!H", suback.body[:2])[0], 7)
                # A wildcard says nothing certain about types: granted, checked per message.
                self.assertEqual(list(suback.body[-4:]), [denied, 1, denied, 0], suback)
                if version == 5:
                    self.assertIn("may not subscribe", suback.reason_string() or "", suback)
                else:
                    self.assertIsNone(suback.reason_string(), suback)
                r.send(PINGREQ)  # the connection goes on
                self.assertEqual(r.recv().type, 13)
        self.daemon.wait_for_log("denied: principal 'anonymous' subscribe type 'org.eclipse.paho.interop.nosubscribe'")

    def test_no_reason_string_beyond_the_client_maximum_packet_size(self):
        r = self.raw("small", properties=props(p_u32(0x27, 24)))  # Maximum Packet Size 24
        r.send(subscribe([("test/nosubscribe", 0)], pid=2))
        suback = r.recv()
        self.assertEqual((suback.type, suback.body), (9, b"\x00\x02\x00\x87"))

    def test_messages_on_the_denied_topic_are_withheld_from_wildcards(self):
        sub = Collector(self.port, client_id="wild", version=5)
        self.addCleanup(sub.close)
        sub.subscribe("test/#", qos=1)
        pub = Collector(self.port, client_id="pub", version=5)
        self.addCleanup(pub.close)
        pub.publish("test/nosubscribe", b"secret", qos=1)
        pub.publish("test/open", b"fine", qos=1)
        got = sub.wait_for(1)
        time.sleep(0.3)
        self.assertEqual([(m.topic, m.payload) for m in sub.messages], [("test/open", b"fine")], got)


class ServerKeepAlive(RawCase):
    sets = MQTT_SETS + ("mqtt.max_keep_alive=2s",)

    def test_5_0_clients_asking_more_or_none_get_the_maximum(self):
        for asked, told in ((120, 2), (0, 2), (3, 2), (2, None), (1, None)):
            with self.subTest(asked=asked):
                r = self.raw(f"ka{asked}", keepalive=asked)
                self.assertEqual(connack_property(r.connack, SERVER_KEEP_ALIVE), told, r.connack)

    def test_the_maximum_is_enforced_on_a_5_0_client_that_asked_for_none(self):
        r = self.raw("idle5", keepalive=0)
        t0 = time.monotonic()
        got = r.expect_closed(timeout=10)
        self.assertEqual([(p.type, p.reason) for p in got], [(14, 0x8D)])
        self.assertGreater(time.monotonic() - t0, 2.5)  # 1.5 x 2 s
        self.assertLess(time.monotonic() - t0, 8.0)

    def test_3_1_1_clients_keep_their_own_keep_alive(self):
        r = self.raw("idle4", version=4, keepalive=120)
        self.assertEqual(r.connack.body, b"\x00\x00")  # 3.1.1 CONNACK: no properties
        time.sleep(3.5)  # beyond 1.5 x the 5.0 maximum
        r.send(PINGREQ)
        self.assertEqual(r.recv().type, 13)

    def test_default_maximum_is_60_seconds(self):
        d = self.start_evmeshd(sets=MQTT_SETS)
        r = Raw(mqtt_port(d))
        self.addCleanup(r.close)
        r.send(connect("default", keepalive=120))
        self.assertEqual(connack_property(r.recv(), SERVER_KEEP_ALIVE), 60)


class ClosingGracefully(RawCase):
    sets = MQTT_SETS + ("mqtt.receive_maximum=3",)

    def test_client_reads_disconnect_0x93_while_it_goes_on_sending(self):
        r = self.raw("flood")
        # Four QoS 2 messages, none released: the fourth is one too many.
        r.send(b"".join(publish("t/flood", f"m{i}", qos=2, pid=i) for i in range(1, 5)))
        time.sleep(0.3)  # the server has decided to close by now
        # Like a client that releases what it got acknowledged only after reading:
        # the server must neither reset the connection nor lose the DISCONNECT.
        got = []
        while True:
            p = r.recv()
            got.append(p)
            if p.type == 5:
                r.send(ack("pubrel", struct.unpack("!H", p.body[:2])[0]))
                time.sleep(0.05)
            else:
                break
        self.assertEqual([p.type for p in got], [5, 5, 5, 14], got)
        self.assertEqual(got[-1].reason, 0x93)
        self.assertIn("QoS 2", got[-1].reason_string())
        self.assert_orderly_end(r)

    def test_a_client_writing_after_a_protocol_error_gets_no_reset(self):
        r = self.raw("chatty")
        # A PUBLISH with packet id 0 (protocol error), then input the server never reads
        # as packets: it is discarded.
        r.send(publish("t/x", "bad", qos=1, pid=0) + publish("t/x", "y" * 50_000, qos=0) * 20)
        d = r.recv()
        self.assertEqual((d.type, d.reason), (14, 0x82), d)
        time.sleep(0.2)
        r.send(PINGREQ)  # the client has not read the end of the stream yet
        self.assert_orderly_end(r)

    def assert_orderly_end(self, r):
        """Nothing after the DISCONNECT but the end of the stream: a FIN, not a reset."""
        self.assertEqual(r.buf, b"")
        r.sock.settimeout(5)
        try:
            self.assertEqual(r.sock.recv(65536), b"")
        except ConnectionResetError:
            self.fail("the server reset the connection instead of closing it")


if __name__ == "__main__":
    unittest.main()
