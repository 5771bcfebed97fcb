"""MQTT test clients for the native listener's integration tests.

- Raw: hand-built packets over a plain socket, for what no client library will send
  (malformed, truncated, oversized, wrong protocol levels) and for exact reason codes.
- Paho: python3-paho-mqtt (Debian), MQTT 3.1.1 or 5.0, collecting what it receives.
- MQTT_SETS / mqtt_port(): run evmeshd with the listener on a free port and find it.
"""
import re
import socket
import struct
import threading
import time

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

MQTT_LISTENING = re.compile(r"mqtt listener on 127\.0\.0\.1:(\d+)")
MQTT_SETS = ("mqtt.enabled=true", "mqtt.host=127.0.0.1", "mqtt.port=0")


def mqtt_port(daemon, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = MQTT_LISTENING.search(daemon.output())
        if m:
            return int(m.group(1))
        time.sleep(0.02)
    raise AssertionError("no 'mqtt listener on' line in the daemon output:\n" + daemon.output())


# ----------------------------------------------------------------------------- raw packets

def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def utf8(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(b)) + b


def props(*items):
    body = b"".join(items)
    return varint(len(body)) + body


def p_byte(pid, v):
    return bytes([pid, v])


def p_u16(pid, v):
    return bytes([pid]) + struct.pack("!H", v)


def p_u32(pid, v):
    return bytes([pid]) + struct.pack("!I", v)


def p_str(pid, s):
    return bytes([pid]) + utf8(s)


def p_varint(pid, v):
    return bytes([pid]) + varint(v)


def p_user(k, v):
    return bytes([0x26]) + utf8(k) + utf8(v)


def packet(first, body=b""):
    return bytes([first]) + varint(len(body)) + body


def connect(client_id="", version=5, clean=True, keepalive=60, properties=None, will=None,
            username=None, password=None, level=None):
    """will = (topic, payload, qos, retain, will_properties_bytes)."""
    flags = 0x02 if clean else 0
    if will:
        flags |= 0x04 | (will[2] << 3) | (0x20 if will[3] else 0)
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    body = utf8("MQTT") + bytes([level or version, flags]) + struct.pack("!H", keepalive)
    if version == 5:
        body += properties if properties is not None else props()
    body += utf8(client_id)
    if will:
        if version == 5:
            body += will[4] if len(will) > 4 and will[4] is not None else props()
        body += utf8(will[0]) + utf8(will[1])
    if username is not None:
        body += utf8(username)
    if password is not None:
        body += utf8(password)
    return packet(0x10, body)


def publish(topic, payload=b"", qos=0, retain=False, pid=1, version=5, properties=None, dup=False):
    first = 0x30 | (qos << 1) | (0x01 if retain else 0) | (0x08 if dup else 0)
    body = utf8(topic)
    if qos:
        body += struct.pack("!H", pid)
    if version == 5:
        body += properties if properties is not None else props()
    return packet(first, body + (payload.encode() if isinstance(payload, str) else payload))


def subscribe(filters, pid=1, version=5, properties=None):
    """filters: list of (filter, options byte)."""
    body = struct.pack("!H", pid)
    if version == 5:
        body += properties if properties is not None else props()
    for f, opts in filters:
        body += utf8(f) + bytes([opts])
    return packet(0x82, body)


def ack(kind, pid, reason=None):
    first = {"puback": 0x40, "pubrec": 0x50, "pubrel": 0x62, "pubcomp": 0x70}[kind]
    body = struct.pack("!H", pid) + (bytes([reason]) if reason is not None else b"")
    return packet(first, body)


PINGREQ = packet(0xC0)
DISCONNECT = packet(0xE0)


class Packet:
    def __init__(self, first, body):
        self.first, self.body = first, body
        self.type = first >> 4

    def __repr__(self):
        return f"Packet(type={self.type}, flags={self.first & 15}, body={self.body!r})"

    # Helpers for the packets the server sends.
    @property
    def reason(self):  # CONNACK (byte 2), DISCONNECT / AUTH (byte 1), acks (byte 3 in 5.0)
        if self.type == 2:
            return self.body[1]
        if self.type in (14, 15):
            return self.body[0] if self.body else 0
        if self.type in (4, 5, 6, 7):
            return self.body[2] if len(self.body) > 2 else 0
        raise ValueError(f"no reason code in {self}")

    def reason_string(self):
        """The reason string property (5.0), if any; searched for in the property block."""
        i = self.body.find(b"\x1f")
        if i < 0:
            return None
        n = struct.unpack("!H", self.body[i + 1:i + 3])[0]
        return self.body[i + 3:i + 3 + n].decode(errors="replace")

    def publish_fields(self, version=5):
        """(topic, qos, retain, pid, properties bytes, payload)."""
        qos, retain = (self.first >> 1) & 3, bool(self.first & 1)
        n = struct.unpack("!H", self.body[:2])[0]
        topic = self.body[2:2 + n].decode()
        i = 2 + n
        pid = None
        if qos:
            pid = struct.unpack("!H", self.body[i:i + 2])[0]
            i += 2
        prop_bytes = b""
        if version == 5:
            length, shift, start = 0, 0, i
            while True:
                b = self.body[i]
                i += 1
                length |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            prop_bytes = self.body[i:i + length]
            i += length
        return topic, qos, retain, pid, prop_bytes, self.body[i:]


class Raw:
    """A socket speaking hand-made MQTT packets."""

    def __init__(self, port, timeout=5.0, rcvbuf=None):
        """rcvbuf: a small receive buffer makes a client that stops reading stall the
        server's writes soon (set before connecting, so the window stays small)."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)
        return self

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            raise EOFError
        self.buf += chunk

    def recv(self, timeout=5.0):
        """The next packet; EOFError when the server closed the connection."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 2:
                n, mult, i = 0, 1, 1
                while i < len(self.buf) and i <= 4:
                    b = self.buf[i]
                    n += (b & 0x7F) * mult
                    mult *= 128
                    i += 1
                    if not b & 0x80:
                        if len(self.buf) >= i + n:
                            p = Packet(self.buf[0], self.buf[i:i + n])
                            self.buf = self.buf[i + n:]
                            return p
                        break
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no packet within the timeout")
            self._fill(left)

    def expect_closed(self, timeout=5.0):
        """Reads (and returns) packets until the server closes; fails on a timeout."""
        got = []
        try:
            while True:
                got.append(self.recv(timeout))
        except EOFError:
            return got

    def close(self):
        self.sock.close()


# ----------------------------------------------------------------------------- paho

class Collector:
    """A connected paho client that records every message it receives."""

    def __init__(self, port, client_id="", version=5, clean=True, session_expiry=None, userdata=None,
                 will=None, username=None, password=None):
        proto = paho.MQTTv5 if version == 5 else paho.MQTTv311
        kwargs = {"client_id": client_id, "protocol": proto}
        if version != 5:
            kwargs["clean_session"] = clean
        self.client = paho.Client(**kwargs)
        self.messages = []
        self.cond = threading.Condition()
        self.connack = None
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        if will:
            self.client.will_set(*will)
        if username is not None or password is not None:
            self.client.username_pw_set(username, password)
        self.client.loop_start()
        if version == 5:
            p = None
            if session_expiry is not None:
                p = Properties(PacketTypes.CONNECT)
                p.SessionExpiryInterval = session_expiry
            self.client.connect("127.0.0.1", port, keepalive=30, clean_start=clean, properties=p)
        else:
            self.client.connect("127.0.0.1", port, keepalive=30)
        with self.cond:
            if not self.cond.wait_for(lambda: self.connack is not None, 10):
                raise AssertionError("no CONNACK")

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        with self.cond:
            self.connack = (flags, rc)
            self.cond.notify_all()

    def _on_message(self, client, userdata, msg):
        with self.cond:
            self.messages.append(msg)
            self.cond.notify_all()

    def subscribe(self, topic, qos=0, **options):
        done = threading.Event()
        self.client.on_subscribe = lambda *a, **k: done.set()
        if options or self.client._protocol == paho.MQTTv5:
            from paho.mqtt.subscribeoptions import SubscribeOptions
            sid = options.pop("subscription_id", None)
            p = None
            if sid:
                p = Properties(PacketTypes.SUBSCRIBE)
                p.SubscriptionIdentifier = sid
            if self.client._protocol == paho.MQTTv5:
                self.client.subscribe(topic, options=SubscribeOptions(qos=qos, **options), properties=p)
            else:
                self.client.subscribe(topic, qos)
        else:
            self.client.subscribe(topic, qos)
        if not done.wait(10):
            raise AssertionError(f"no SUBACK for {topic}")
        return self

    def publish(self, topic, payload, qos=0, retain=False, properties=None):
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        if qos:
            info.wait_for_publish(10)
        return info

    def wait_for(self, n, timeout=10.0):
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.messages) >= n, timeout)
            got = list(self.messages)
        if not ok:
            raise AssertionError(f"got {len(got)} message(s), expected {n}: "
                                 f"{[(m.topic, m.payload) for m in got]}")
        return got

    def count(self):
        with self.cond:
            return len(self.messages)

    def close(self):
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()
