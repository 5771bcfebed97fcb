"""The native MQTT listener against real clients (paho 3.1.1 / 5.0, mosquitto_pub/sub)
and hand-made packets: every malformed or hostile input gets the right reason code,
then the connection closes; nothing else is affected."""
import socket
import subprocess
import time
import unittest

from harness import EvmeshTestCase
from mqtt_clients import (DISCONNECT, PINGREQ, MQTT_SETS, Collector, Raw, ack, connect, mqtt_port,
                          p_byte, p_str, p_u16, p_u32, p_user, p_varint, packet, props, publish,
                          subscribe, utf8)


class MqttCase(EvmeshTestCase):
    sets = MQTT_SETS

    def setUp(self):
        super().setUp()
        self.port = mqtt_port(self.daemon)

    def raw(self, version=5, client_id="raw", **kw):
        r = Raw(self.port)
        self.addCleanup(r.close)
        if version:
            r.send(connect(client_id, version=version, **kw))
            ack_ = r.recv()
            self.assertEqual(ack_.type, 2, ack_)
            self.assertEqual(ack_.reason, 0, ack_)
            r.connack = ack_
        return r

    def paho(self, **kw):
        c = Collector(self.port, **kw)
        self.addCleanup(c.close)
        return c


class PublishSubscribe(MqttCase):
    def test_qos_0_1_2_in_both_versions_with_wildcards(self):
        for version in (4, 5):
            with self.subTest(version=version):
                sub = self.paho(version=version).subscribe(f"v{version}/+/temp", qos=2)
                hash_sub = self.paho(version=version).subscribe(f"v{version}/#", qos=1)
                pub = self.paho(version=version)
                for qos in (0, 1, 2):
                    pub.publish(f"v{version}/room{qos}/temp", f"q{qos}", qos=qos)
                got = sub.wait_for(3)
                self.assertEqual(sorted((m.topic, m.payload, m.qos) for m in got),
                                 [(f"v{version}/room{q}/temp", f"q{q}".encode(), q) for q in (0, 1, 2)])
                # The granted QoS caps the delivery QoS.
                self.assertEqual(sorted(m.qos for m in hash_sub.wait_for(3)), [0, 1, 1])

    def test_mosquitto_clients_3_1_1_and_5(self):
        for v in ("mqttv311", "mqttv5"):
            with self.subTest(version=v):
                sub = subprocess.Popen(["mosquitto_sub", "-p", str(self.port), "-V", v, "-t", f"{v}/#",
                                        "-q", "1", "-C", "2", "-v", "-W", "10"],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                self.addCleanup(lambda p=sub: p.poll() is None and p.kill())
                self.daemon.wait_for_log(f"SUBSCRIBE '{v}/#'")
                for i in range(2):
                    subprocess.run(["mosquitto_pub", "-p", str(self.port), "-V", v, "-t", f"{v}/{i}",
                                    "-m", f"m{i}", "-q", "1"], check=True, timeout=10)
                out, err = sub.communicate(timeout=15)
                self.assertEqual(sub.returncode, 0, err)
                self.assertEqual(out.splitlines(), [f"{v}/0 m0", f"{v}/1 m1"])

    def test_retained_messages_set_replace_clear(self):
        pub = self.paho()
        pub.publish("ret/a", "one", qos=1, retain=True)
        pub.publish("ret/a", "two", qos=1, retain=True)
        pub.publish("ret/b", "b", qos=1, retain=True)
        got = self.paho().subscribe("ret/#", qos=1).wait_for(2)
        self.assertEqual(sorted((m.topic, m.payload, m.retain) for m in got),
                         [("ret/a", b"two", True), ("ret/b", b"b", True)])
        pub.publish("ret/a", "", qos=1, retain=True)  # an empty retained message clears
        late = self.paho().subscribe("ret/#", qos=1)
        self.assertEqual([(m.topic, m.payload) for m in late.wait_for(1)], [("ret/b", b"b")])
        time.sleep(0.3)
        self.assertEqual(late.count(), 1)

    def test_qos2_duplicate_publish_is_delivered_once(self):
        sub = self.paho().subscribe("dup", qos=2)
        r = self.raw(client_id="dup-pub")
        r.send(publish("dup", "x", qos=2, pid=7))
        self.assertEqual(r.recv().type, 5)  # PUBREC
        r.send(publish("dup", "x", qos=2, pid=7, dup=True))  # resend before PUBREL
        self.assertEqual(r.recv().type, 5)
        r.send(ack("pubrel", 7))
        comp = r.recv()
        self.assertEqual((comp.type, comp.body[:2]), (7, b"\x00\x07"))
        sub.wait_for(1)
        time.sleep(0.3)
        self.assertEqual(sub.count(), 1)

    def test_pingreq(self):
        r = self.raw(version=4)
        r.send(PINGREQ)
        self.assertEqual(r.recv().type, 13)


class Sessions(MqttCase):
    def test_persistent_session_queues_qos1_while_offline_3_1_1(self):
        c = self.paho(version=4, client_id="keeper", clean=False).subscribe("q/#", qos=1)
        c.close()
        pub = self.paho(version=4)
        for i in range(3):
            pub.publish(f"q/{i}", f"m{i}", qos=1)
        pub.publish("q/zero", "dropped", qos=0)  # QoS 0 is not queued for offline sessions
        back = self.paho(version=4, client_id="keeper", clean=False)
        self.assertTrue(back.connack[0]["session present"])
        self.assertEqual([m.payload for m in back.wait_for(3)], [b"m0", b"m1", b"m2"])
        time.sleep(0.3)
        self.assertEqual(back.count(), 3)

    def test_session_expiry_5(self):
        c = self.paho(client_id="short", session_expiry=1).subscribe("exp", qos=1)
        c.close()
        time.sleep(2.2)
        again = self.paho(client_id="short", clean=False, session_expiry=1)
        self.assertFalse(again.connack[0]["session present"])

    def test_clean_start_discards_the_session(self):
        c = self.paho(client_id="cs", session_expiry=60).subscribe("cs", qos=1)
        c.close()
        fresh = self.paho(client_id="cs", clean=True, session_expiry=60)
        self.assertFalse(fresh.connack[0]["session present"])

    def test_inflight_qos1_is_resent_with_dup_after_reconnect(self):
        r = self.raw(client_id="resend", clean=False, properties=props(p_u32(0x11, 60)))
        r.send(subscribe([("rs", 1)], pid=1))
        self.assertEqual(r.recv().type, 9)
        self.paho().publish("rs", "once", qos=1)
        first = r.recv()
        self.assertEqual(first.type, 3)
        r.close()  # no PUBACK
        r2 = self.raw(client_id="resend", clean=False, properties=props(p_u32(0x11, 60)))
        self.assertEqual(r2.connack.body[0], 1)  # session present
        again = r2.recv()
        self.assertEqual(again.type, 3)
        self.assertTrue(again.first & 0x08, "DUP must be set on a resend")
        self.assertEqual(again.publish_fields()[5], b"once")

    def test_takeover_disconnects_the_first_connection_with_0x8e(self):
        first = self.raw(client_id="twin")
        self.raw(client_id="twin")
        got = first.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in got], [(14, 0x8E)])

    def test_server_assigned_client_id(self):
        r = self.raw(client_id="")
        self.assertIn(b"evmesh-", r.connack.body)
        r4 = Raw(self.port)
        self.addCleanup(r4.close)
        r4.send(connect("", version=4, clean=False))
        refused = r4.recv()
        self.assertEqual((refused.type, refused.body), (2, b"\x00\x02"))  # identifier rejected
        r4.expect_closed()


class Wills(MqttCase):
    def test_will_on_abrupt_close_not_on_disconnect(self):
        sub = self.paho().subscribe("will/#", qos=1)
        a = self.raw(client_id="w1", will=("will/a", "gone-a", 1, False))
        b = self.raw(client_id="w2", will=("will/b", "gone-b", 1, False))
        a.close()
        b.send(DISCONNECT)
        b.expect_closed()
        self.assertEqual([(m.topic, m.payload) for m in sub.wait_for(1)], [("will/a", b"gone-a")])
        time.sleep(0.3)
        self.assertEqual(sub.count(), 1)

    def test_will_delay_is_cancelled_by_reconnect_5(self):
        sub = self.paho().subscribe("wd/#", qos=1)
        expiry = props(p_u32(0x11, 60))
        a = self.raw(client_id="wd", clean=False, properties=expiry,
                     will=("wd/x", "late", 1, False, props(p_u32(0x18, 1))))
        a.close()
        self.raw(client_id="wd", clean=False, properties=expiry)
        b = self.raw(client_id="wd2", properties=expiry,
                     will=("wd/y", "delayed", 1, False, props(p_u32(0x18, 1))))
        b.close()
        t0 = time.monotonic()
        got = sub.wait_for(1, timeout=5)
        self.assertGreater(time.monotonic() - t0, 0.5)
        self.assertEqual([(m.topic, m.payload) for m in got], [("wd/y", b"delayed")])


class FiveOnly(MqttCase):
    def test_user_properties_content_type_and_subscription_ids(self):
        r = self.raw(client_id="props-sub")
        r.send(subscribe([("p/#", 1)], pid=1, properties=props(p_varint(0x0B, 42))))
        self.assertEqual(r.recv().type, 9)
        pub = self.raw(client_id="props-pub")
        pub.send(publish("p/x", b"{}", qos=1, properties=props(p_str(0x03, "application/json"),
                                                              p_user("k", "v"))))
        self.assertEqual(pub.recv().reason, 0)
        got = r.recv()
        topic, qos, retain, pid, pbytes, payload = got.publish_fields()
        self.assertEqual((topic, qos, payload), ("p/x", 1, b"{}"))
        self.assertIn(b"\x03\x00\x10application/json", pbytes)
        self.assertIn(b"\x26\x00\x01k\x00\x01v", pbytes)
        self.assertIn(b"\x0b\x2a", pbytes)  # subscription identifier 42

    def test_no_local_and_retain_as_published_and_retain_handling(self):
        me = self.raw(client_id="nl")
        # no local (0x04) on nl/a; retain-as-published (0x08) on nl/b; never send retained (0x20) on nl/c
        me.send(subscribe([("nl/a", 0x04 | 1), ("nl/b", 0x08 | 1)], pid=1))
        self.assertEqual(me.recv().type, 9)
        me.send(publish("nl/a", "own", qos=0))
        me.send(publish("nl/b", "kept", qos=0, retain=True))
        got = me.recv()
        self.assertEqual(got.publish_fields()[0], "nl/b")
        self.assertTrue(got.first & 1, "retain as published keeps RETAIN")
        me.send(subscribe([("nl/b", 0x20 | 1)], pid=2))
        self.assertEqual(me.recv().type, 9)  # SUBACK and no retained message
        me.send(PINGREQ)
        self.assertEqual(me.recv().type, 13)

    def test_topic_alias(self):
        sub = self.paho().subscribe("alias/#")
        r = self.raw(client_id="alias")
        r.send(publish("alias/t", "1", properties=props(p_u16(0x23, 3))))
        r.send(publish("", "2", properties=props(p_u16(0x23, 3))))
        self.assertEqual([(m.topic, m.payload) for m in sub.wait_for(2)], [("alias/t", b"1"), ("alias/t", b"2")])
        r.send(publish("", "3", properties=props(p_u16(0x23, 9))))  # never set
        self.assertEqual([(p.type, p.reason) for p in r.expect_closed()], [(14, 0x82)])

    def test_server_sent_topic_aliases_within_the_client_maximum(self):
        # Topic Alias Maximum 2: two topics get aliases (name once, then alias only),
        # a third is always sent by name; the alias property is read from each packet.
        r = self.raw(client_id="aliased", properties=props(p_u16(0x22, 2)))
        r.send(subscribe([("sa/#", 1)], pid=1))
        self.assertEqual(r.recv().type, 9)
        pub = self.paho()
        sent = ["sa/one", "sa/two", "sa/one", "sa/three", "sa/two", "sa/three", "sa/one"]
        for i, t in enumerate(sent):
            pub.publish(t, str(i), qos=1)
        got = []
        for i in range(len(sent)):
            p = r.recv()
            topic, qos, _, pid, prop_bytes, payload = p.publish_fields()
            alias = None
            if b"\x23" in prop_bytes:
                j = prop_bytes.index(b"\x23")
                alias = int.from_bytes(prop_bytes[j + 1:j + 3], "big")
            got.append((topic, alias, payload.decode()))
            r.send(ack("puback", pid))
        self.assertEqual(got, [("sa/one", 1, "0"), ("sa/two", 2, "1"), ("", 1, "2"), ("sa/three", None, "3"),
                               ("", 2, "4"), ("sa/three", None, "5"), ("", 1, "6")])
        # A client that set no maximum gets names only.
        plain = self.raw(client_id="plain")
        plain.send(subscribe([("sa/#", 0)], pid=1))
        self.assertEqual(plain.recv().type, 9)
        pub.publish("sa/one", "x")
        topic, _, _, _, prop_bytes, _ = plain.recv().publish_fields()
        self.assertEqual((topic, b"\x23" in prop_bytes), ("sa/one", False))

    def test_topic_alias_over_the_maximum(self):
        r = self.raw(client_id="alias-max")
        r.send(publish("a", "1", properties=props(p_u16(0x23, 1000))))
        self.assertEqual([(p.type, p.reason) for p in r.expect_closed()], [(14, 0x94)])

    def test_shared_subscription_splits_the_load(self):
        a = self.paho(client_id="sa").subscribe("$share/g/jobs", qos=1)
        b = self.paho(client_id="sb").subscribe("$share/g/jobs", qos=1)
        pub = self.paho()
        for i in range(10):
            pub.publish("jobs", str(i), qos=1)
        deadline = time.monotonic() + 10
        while a.count() + b.count() < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(a.count() + b.count(), 10)
        self.assertGreater(a.count(), 0)
        self.assertGreater(b.count(), 0)

    def test_receive_maximum_limits_unacknowledged_deliveries(self):
        r = self.raw(client_id="rm", properties=props(p_u16(0x21, 2)))
        r.send(subscribe([("rm", 1)], pid=1))
        self.assertEqual(r.recv().type, 9)
        pub = self.paho()
        for i in range(4):
            pub.publish("rm", str(i), qos=1)
        p1, p2 = r.recv(), r.recv()
        with self.assertRaises(socket.timeout):
            r.recv(timeout=0.5)  # two in flight: the third waits
        r.send(ack("puback", p1.publish_fields()[3]))
        self.assertEqual(r.recv().publish_fields()[5], b"2")

    def test_maximum_packet_size_of_the_client_is_respected(self):
        r = self.raw(client_id="small", properties=props(p_u32(0x27, 64)))
        r.send(subscribe([("mp", 0)], pid=1))
        self.assertEqual(r.recv().type, 9)
        pub = self.paho()
        pub.publish("mp", "x" * 100)
        pub.publish("mp", "small")
        self.assertEqual(r.recv().publish_fields()[5], b"small")


class HostileInput(MqttCase):
    def expect_reason(self, r, reason):
        got = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in got], [(14, reason)])
        return got[0]

    def test_malformed_packets_close_with_0x81_and_a_reason_string(self):
        cases = {
            "reserved flags on SUBSCRIBE": packet(0x80, b"\x00\x01\x00\x00\x01a\x00"),
            "truncated property": packet(0x30, b"\x00\x01a\x05\x02\x00"),
            "unknown property": packet(0x30, b"\x00\x01a\x02\x7f\x00"),
            "QoS 3": packet(0x36, b"\x00\x01a"),
            "remaining length of 5 bytes": b"\x30\xff\xff\xff\xff\x01",
        }
        for name, data in cases.items():
            with self.subTest(name):
                r = self.raw(client_id="bad")
                r.send(data)
                d = self.expect_reason(r, 0x81)
                self.assertTrue(d.reason_string(), d)
        # The broker still serves others.
        self.raw(client_id="fine").send(PINGREQ)

    def test_protocol_errors_close_with_0x82(self):
        r = self.raw(client_id="twice")
        r.send(connect("twice"))
        self.assertIn("second CONNECT", self.expect_reason(r, 0x82).reason_string())

    def test_3_1_1_violation_closes_without_a_disconnect(self):
        r = self.raw(version=4, client_id="v4")
        r.send(packet(0x36, b"\x00\x01a"))
        self.assertEqual(r.expect_closed(), [])

    def test_wrong_protocol_levels(self):
        for level, expected in ((3, b"\x00\x01"), (6, b"\x00\x01")):
            with self.subTest(level=level):
                r = Raw(self.port)
                self.addCleanup(r.close)
                r.send(connect("lvl", version=4, level=level))
                got = r.expect_closed()
                self.assertEqual([(p.type, p.body) for p in got], [(2, expected)])

    def test_first_packet_not_connect_closes(self):
        r = Raw(self.port)
        self.addCleanup(r.close)
        r.send(PINGREQ)
        self.assertEqual(r.expect_closed(), [])

    def test_oversized_packet_closes_with_0x95(self):
        r = self.raw(client_id="big")
        # Only the fixed header is sent: the server refuses before reading 2 MiB.
        r.send(b"\x30" + bytes([0x80, 0x80, 0x80, 0x01]))
        self.expect_reason(r, 0x95)

    def test_truncated_packet_then_close_leaves_no_trace(self):
        r = self.raw(client_id="trunc")
        r.send(publish("t", "x" * 100)[:20])
        r.close()
        self.raw(client_id="trunc")  # the id is free again, the server is fine

    def test_keep_alive_expiry(self):
        r = self.raw(client_id="sleepy", keepalive=1)
        t0 = time.monotonic()
        self.expect_reason(r, 0x8D)
        self.assertGreater(time.monotonic() - t0, 1.2)
        self.assertLess(time.monotonic() - t0, 6.0)  # 1.5 s plus a loaded machine

    def test_invalid_utf8_topic(self):
        r = self.raw(client_id="utf")
        r.send(packet(0x30, b"\x00\x02\xc3\x28"))
        self.expect_reason(r, 0x81)

    def test_subscribe_invalid_filter_gets_0x8f_not_a_close(self):
        r = self.raw(client_id="filt")
        r.send(subscribe([("a/#/b", 0), ("ok/+", 1)], pid=3))
        suback = r.recv()
        self.assertEqual((suback.type, suback.body[-2:]), (9, b"\x8f\x01"))


if __name__ == "__main__":
    unittest.main()
