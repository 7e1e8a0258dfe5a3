"""A minimal MQTT 5 client connection: just the packets the service's two hot paths use.

Hand-written on purpose: paho-mqtt handles one packet per loop turn and builds a Properties object
per message; measured here it costs 55–80 µs of CPU per received message and 36 µs per published
message with a user property. The service receives its own re-publications too (they share the STA
topics devices publish to), so at 20,000 observations/s paho alone would need more than the two
cores. This codec reads whole socket buffers and parses many packets per call (a few µs each) and
writes QoS 0 publications in one send. It speaks only: CONNECT/CONNACK, SUBSCRIBE/SUBACK,
PUBLISH (QoS 0 and 1 both ways; the service publishes QoS 0), PUBACK, PINGREQ/PINGRESP, DISCONNECT
— no will, no auth, no topic aliases, no QoS 2 (subscriptions ask for QoS 1 at most, so the broker
never sends QoS 2).
Tests and tools keep using paho, which checks this code against an independent client.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

CONNECT, CONNACK, PUBLISH, PUBACK = 0x10, 0x20, 0x30, 0x40
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 0x82, 0x90, 0xC0, 0xD0, 0xE0
PROP_SESSION_EXPIRY, PROP_RECEIVE_MAXIMUM, PROP_USER = 0x11, 0x21, 0x26
RETAIN_SEND_IF_NEW_SUB = 1
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only; elsewhere the delayed-ACK stall remains


class MqttError(Exception):
    """The connection failed or the broker refused something; the message says what."""


def varint(value: int) -> bytes:
    """MQTT Variable Byte Integer."""
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def utf8(text: str) -> bytes:
    """An MQTT UTF-8 string: 2-byte length, then the bytes."""
    data = text.encode()
    return struct.pack("!H", len(data)) + data


def user_property(key: str, value: str) -> bytes:
    """One encoded User Property (for PUBLISH properties)."""
    return bytes([PROP_USER]) + utf8(key) + utf8(value)


def packet(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + varint(len(body)) + body


def publish_packet(topic: str, payload: bytes, properties: bytes = b"", *, qos: int = 0, packet_id: int = 0) -> bytes:
    """A PUBLISH (QoS 0, or QoS 1 with its packet id: the sender then counts PUBACKs in `acknowledged`)."""
    identifier = struct.pack("!H", packet_id) if qos else b""
    return packet(PUBLISH | qos << 1, utf8(topic) + identifier + varint(len(properties)) + properties + payload)


# Property identifier → how many bytes its value takes (-1: a 2-byte-length string or binary, -2: a string
# pair, -4: a variable byte integer), to walk CONNACK properties.
_PROPERTY_SIZES = {0x01: 1, 0x02: 4, 0x03: -1, 0x08: -1, 0x09: -1, 0x0B: -4, 0x11: 4, 0x12: -1, 0x13: 2, 0x15: -1,
                   0x16: -1, 0x17: 1, 0x18: 4, 0x19: 1, 0x1A: -1, 0x1C: -1, 0x1F: -1, 0x21: 2, 0x22: 2, 0x23: 2,
                   0x24: 1, 0x25: 1, 0x26: -2, 0x27: 4, 0x28: 1, 0x29: 1, 0x2A: 1}


def parse_properties(data: bytes) -> dict[int, int | bytes]:
    """Numeric and single-string properties by identifier (user properties are skipped)."""
    found: dict[int, int | bytes] = {}
    pos = 0
    while pos < len(data):
        identifier = data[pos]
        size = _PROPERTY_SIZES.get(identifier)
        pos += 1
        if size is None:
            raise MqttError(f"unknown property {identifier:#x}")
        if size > 0:
            found[identifier] = int.from_bytes(data[pos:pos + size], "big")
            pos += size
        elif size == -4:
            decoded = _read_varint(data, pos)
            if decoded is None:
                raise MqttError("malformed property")
            found[identifier], pos = decoded
        else:
            for _ in range(-size):
                length = struct.unpack_from("!H", data, pos)[0]
                if size == -1:
                    found[identifier] = bytes(data[pos + 2:pos + 2 + length])
                pos += 2 + length
    return found


@dataclass(slots=True)
class Message:
    """A received PUBLISH; `properties` are the raw property bytes."""

    topic: str
    payload: bytes
    qos: int
    packet_id: int
    properties: bytes
    dup: bool


def _read_varint(data: bytes | bytearray, pos: int) -> tuple[int, int] | None:
    """(value, next position), or None when the bytes are not all there yet."""
    value, shift = 0, 0
    for i in range(pos, min(pos + 4, len(data))):
        value += (data[i] & 0x7F) << shift
        if not data[i] & 0x80:
            return value, i + 1
        shift += 7
    if len(data) - pos >= 4:
        raise MqttError("malformed remaining length")
    return None


class Connection:
    """One MQTT 5 connection. One thread reads (`receive()`); any thread may write (a lock orders writes)."""

    def __init__(self, host: str, port: int, client_id: str, *, clean_start: bool, keepalive_s: int = 30,
                 session_expiry_s: int = 0, receive_maximum: int | None = None, timeout_s: float = 10.0) -> None:
        self.host, self.port, self.client_id = host, port, client_id
        self.clean_start, self.keepalive_s = clean_start, keepalive_s
        self.session_expiry_s, self.receive_maximum, self.timeout_s = session_expiry_s, receive_maximum, timeout_s
        self.session_present = False
        self.server_receive_maximum = 65_535
        self.acknowledged = 0  # PUBACKs received for our QoS 1 publications
        self.skipped = 0  # QoS 0 PUBLISHes dropped by receive(skip_qos0_with=...)
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._write_lock = threading.Lock()
        self._last_write = self._last_read = 0.0
        self._next_packet_id = 0
        self._closed = False
        self._pending: list[Message] = []  # PUBLISHes that arrived before SUBACK
        self._backlog: deque[tuple[int, int, bytes]] = deque()  # parsed packets not handed out yet

    # --- connection ---
    def open(self) -> Connection:
        """Connect and wait for CONNACK; MqttError (or OSError) if the broker refuses or is away."""
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        properties = b""
        if self.session_expiry_s:
            properties += bytes([PROP_SESSION_EXPIRY]) + struct.pack("!I", self.session_expiry_s)
        if self.receive_maximum:
            properties += bytes([PROP_RECEIVE_MAXIMUM]) + struct.pack("!H", self.receive_maximum)
        flags = 0x02 if self.clean_start else 0x00
        body = utf8("MQTT") + bytes([5, flags]) + struct.pack("!H", self.keepalive_s) + varint(len(properties)) + properties
        self._write(packet(CONNECT, body + utf8(self.client_id)))
        kind, _, data = self._next_packet(deadline=time.monotonic() + self.timeout_s)
        if kind != CONNACK or len(data) < 2:
            raise MqttError(f"expected CONNACK, got packet type {kind:#x}")
        if data[1] >= 0x80:
            raise MqttError(f"the broker refused the connection (reason code {data[1]:#x})")
        self.session_present = bool(data[0] & 0x01)
        decoded = _read_varint(data, 2)
        properties_found = parse_properties(data[decoded[1]:decoded[1] + decoded[0]]) if decoded else {}
        # How many unacknowledged QoS 1 messages the broker accepts from us, and its keepalive if it sets one.
        self.server_receive_maximum = int(properties_found.get(PROP_RECEIVE_MAXIMUM, 65_535))
        self.keepalive_s = int(properties_found.get(0x13, self.keepalive_s))
        sock.settimeout(max(1.0, self.keepalive_s / 2))
        return self

    def close(self, *, send_disconnect: bool = True) -> None:
        """End the connection (a normal DISCONNECT keeps a persistent session on the broker)."""
        self._closed = True
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if send_disconnect:
            try:
                with self._write_lock:
                    sock.sendall(bytes([DISCONNECT, 0]))
            except OSError:
                pass
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    # --- writing ---
    def _write(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            raise MqttError("not connected")
        with self._write_lock:
            sock.sendall(data)
            self._last_write = time.monotonic()

    def subscribe(self, filters: Iterable[str], *, qos: int = 1, retain_handling: int = RETAIN_SEND_IF_NEW_SUB) -> None:
        """SUBSCRIBE and wait for SUBACK (before any message is read); MqttError if a filter is refused."""
        filters = list(filters)
        options = bytes([qos | retain_handling << 4])
        self._next_packet_id = self._next_packet_id % 65535 + 1
        body = struct.pack("!H", self._next_packet_id) + varint(0) + b"".join(utf8(f) + options for f in filters)
        self._write(packet(SUBSCRIBE, body))
        deadline = time.monotonic() + self.timeout_s
        while True:
            kind, flags, data = self._next_packet(deadline)
            if kind == SUBACK:
                break
            if kind == PUBLISH:  # a queued message may come first: keep it for receive()
                self._pending.append(self._parse_publish(flags, data))
        prop_len, pos = _read_varint(data, 2) or (0, 2)
        refused = [code for code in data[pos + prop_len:] if code >= 0x80]
        if refused:
            raise MqttError(f"the broker refused the subscription (reason code {refused[0]:#x})")

    def puback(self, packet_id: int) -> None:
        self._write(bytes([PUBACK, 2]) + struct.pack("!H", packet_id))

    def publish_many(self, packets: Iterable[bytes]) -> None:
        """Send pre-encoded PUBLISH packets in one write."""
        self._write(b"".join(packets))

    # --- reading ---
    def receive(self, *, skip_qos0_with: bytes | None = None) -> list[Message]:
        """The PUBLISHes that have arrived, at least one (blocks); MqttError/OSError when the connection ends.

        QoS 0 PUBLISHes whose bytes contain `skip_qos0_with` (an encoded user property) are dropped
        unparsed and counted in `skipped` (then the list may be empty). Keeps the keepalive while it waits.
        """
        messages, self._pending = self._pending, []
        while not messages:
            if not self._backlog:
                skipped = self.skipped
                self._backlog.extend(self._packets(skip_qos0_with))
                if not self._backlog:
                    if self.skipped != skipped:
                        return messages
                    self._fill(None)
                    continue
            while self._backlog:
                kind, flags, data = self._backlog.popleft()
                if kind == PUBLISH:
                    messages.append(self._parse_publish(flags, data))
                elif kind == PUBACK:
                    self.acknowledged += 1
                elif kind == DISCONNECT:
                    reason = data[0] if data else 0
                    raise MqttError(f"the broker disconnected us (reason code {reason:#x})")
        return messages

    def _parse_publish(self, flags: int, data: bytes) -> Message:
        qos = (flags >> 1) & 0x03
        topic_len = struct.unpack_from("!H", data, 0)[0]
        pos = 2 + topic_len
        topic = data[2:pos].decode()
        packet_id = 0
        if qos:
            packet_id = struct.unpack_from("!H", data, pos)[0]
            pos += 2
        decoded = _read_varint(data, pos)
        if decoded is None:
            raise MqttError("malformed PUBLISH properties")
        prop_len, pos = decoded
        return Message(topic, data[pos + prop_len:], qos, packet_id, data[pos:pos + prop_len], bool(flags & 0x08))

    def _packets(self, skip_qos0_with: bytes | None = None) -> list[tuple[int, int, bytes]]:
        """Every whole packet in the buffer as (type, flags, body); PINGRESPs dropped. One buffer cut at the end."""
        buffer, pos, out = self._buffer, 0, []
        size = len(buffer)
        while size - pos >= 2:
            header = _read_varint(buffer, pos + 1)
            if header is None:
                break
            length, start = header
            end = start + length
            if end > size:
                break
            first = buffer[pos]
            if first == PUBLISH and skip_qos0_with is not None and buffer.find(skip_qos0_with, start, end) >= 0:
                self.skipped += 1  # a QoS 0 message carrying the marker: nothing to parse, nothing to acknowledge
            elif first & 0xF0 != PINGRESP:
                out.append((first & 0xF0, first & 0x0F, bytes(buffer[start:end])))
            pos = end
        if pos:
            del buffer[:pos]
        return out

    def _next_packet(self, deadline: float | None) -> tuple[int, int, bytes]:
        """The next packet (type, flags, body), reading the socket as needed (for CONNACK and SUBACK)."""
        while not self._backlog:
            self._backlog.extend(self._packets())
            if not self._backlog:
                self._fill(deadline)
        return self._backlog.popleft()

    def _fill(self, deadline: float | None) -> None:
        sock = self._sock
        if sock is None:
            raise MqttError("not connected")
        try:
            chunk = sock.recv(262_144)
        except TimeoutError:
            now = time.monotonic()
            if deadline is not None and now > deadline:
                raise MqttError("the broker did not answer in time") from None
            if now - self._last_read > self.keepalive_s * 1.5:
                raise MqttError("the broker stopped answering (keepalive)") from None
            self._write(bytes([PINGREQ, 0]))
            return
        if not chunk:
            raise MqttError("the broker closed the connection")
        if _QUICKACK is not None:
            # Acknowledge TCP segments at once: Mosquitto leaves Nagle on by default, so its small packets
            # (PUBACKs, short PUBLISHes) wait for our delayed ACK — 40 ms stalls that cap QoS 1 at ~500/s.
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        self._last_read = time.monotonic()
        self._buffer += chunk
        if self.keepalive_s and self._last_read - self._last_write > self.keepalive_s / 2:
            self._write(bytes([PINGREQ, 0]))  # we only read: keep our side of the keepalive alive
