"""Prometheus remote write 1.0 encoding with the standard library only.

A hand-written protobuf encoder for the three messages remote write 1.0 needs
and a snappy *block* compressor that emits only literal elements. A literal-only
stream is valid snappy (the format never requires back-references), so any
decoder accepts it; it is just not smaller than its input.

    WriteRequest { repeated TimeSeries timeseries = 1; }
    TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
    Label        { string name = 1; string value = 2; }
    Sample       { double value = 1; int64 timestamp = 2; }
"""

import struct
import urllib.request

# Prometheus's staleness marker: a NaN with this exact bit pattern.
STALE_NAN_BITS = 0x7FF0000000000002
STALE_NAN = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]

_WIRE_VARINT = 0
_WIRE_FIXED64 = 1
_WIRE_LEN = 2


def _varint(n):
    """Unsigned LEB128; negative int64 values are sent as their two's complement."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field, wire):
    return _varint(field << 3 | wire)


def _len_field(field, payload):
    return _key(field, _WIRE_LEN) + _varint(len(payload)) + payload


def encode_sample(value_bits, timestamp_ms):
    """A Sample message; the value is given as its 64 raw bits so NaN payloads survive."""
    return (
        _key(1, _WIRE_FIXED64)
        + struct.pack("<Q", value_bits)
        + _key(2, _WIRE_VARINT)
        + _varint(timestamp_ms)
    )


def encode_timeseries(labels, samples):
    """labels: dict name -> value; samples: list of (value_bits, timestamp_ms)."""
    out = bytearray()
    for name in sorted(labels):
        label = _len_field(1, name.encode()) + _len_field(2, labels[name].encode())
        out += _len_field(1, label)
    for value_bits, timestamp_ms in samples:
        out += _len_field(2, encode_sample(value_bits, timestamp_ms))
    return bytes(out)


def encode_write_request(series):
    """series: list of (labels dict, [(value_bits, timestamp_ms), ...])."""
    out = bytearray()
    for labels, samples in series:
        out += _len_field(1, encode_timeseries(labels, samples))
    return bytes(out)


def float_bits(value):
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def snappy_literal_compress(data):
    """Snappy block format: varint(uncompressed length), then literal elements."""
    out = bytearray(_varint(len(data)))
    # Chunks of at most 64 KiB keep every literal header at three bytes or less.
    chunk = 1 << 16
    for start in range(0, len(data), chunk):
        piece = data[start : start + chunk]
        n = len(piece) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 1 << 8:
            out.append(60 << 2)
            out += n.to_bytes(1, "little")
        else:
            out.append(61 << 2)
            out += n.to_bytes(2, "little")
        out += piece
    return bytes(out)


def snappy_decompress(data):
    """A minimal snappy block decoder, used only by the self-test below."""
    pos, shift, length = 0, 0, 0
    while True:
        byte = data[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    out = bytearray()
    while pos < len(data):
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:
            n = tag >> 2
            if n >= 60:
                width = n - 59
                n = int.from_bytes(data[pos : pos + width], "little")
                pos += width
            n += 1
            out += data[pos : pos + n]
            pos += n
        else:
            if kind == 1:
                n = ((tag >> 2) & 7) + 4
                offset = (tag >> 5) << 8 | data[pos]
                pos += 1
            elif kind == 2:
                n = (tag >> 2) + 1
                offset = int.from_bytes(data[pos : pos + 2], "little")
                pos += 2
            else:
                n = (tag >> 2) + 1
                offset = int.from_bytes(data[pos : pos + 4], "little")
                pos += 4
            for _ in range(n):
                out.append(out[-offset])
    if len(out) != length:
        raise ValueError(f"snappy length {len(out)} != header {length}")
    return bytes(out)


def post(url, body, timeout=60):
    """POSTs one compressed WriteRequest; returns (status, response text)."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "snappy",
            "X-Prometheus-Remote-Write-Version": "0.1.0",
            "User-Agent": "infersight-promql-diff",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


def _self_test():
    for size in (0, 1, 59, 60, 61, 255, 256, 257, 65535, 65536, 65537, 300000):
        data = bytes((i * 7 + size) % 251 for i in range(size))
        assert snappy_decompress(snappy_literal_compress(data)) == data, size
    assert _varint(300) == b"\xac\x02"
    assert _varint(-1) == b"\xff" * 9 + b"\x01"
    sample = encode_sample(float_bits(1.0), 1)
    assert sample == b"\x09" + struct.pack("<d", 1.0) + b"\x10\x01"
    assert float_bits(STALE_NAN) == STALE_NAN_BITS
    print("remote_write self-test ok")


if __name__ == "__main__":
    _self_test()
