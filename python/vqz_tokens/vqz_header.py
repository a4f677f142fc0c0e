"""The HEAD chunk of a .vqz file (docs/FORMAT.md), read without decoding any token."""

import struct
import zlib
from dataclasses import dataclass

SIGNATURE = b"\x89VQZ\r\n\x1a\n"
ENTROPY_CODERS = {0: "zstd", 1: "prior"}
PACKINGS = {0: "bit-packed", 1: "16-bit", 2: "byte-split", 3: "per-level"}


@dataclass
class VQZHeader:
    version: int
    width: int
    height: int
    channels: int
    alpha: bool
    model: str
    digest: str  # 32 hex digits
    grid_width: int
    grid_height: int
    levels: int
    entropy_coder: str
    packing: str
    codebook_sizes: list
    chunks: list  # tags in file order

    @property
    def fingerprint(self):
        """How vqz names the model in messages: name@ and the first 8 digest bytes in hex."""
        return f"{self.model}@{self.digest[:16]}"


def read_vqz_header(source):
    """Parses signature, version, chunk framing, the CRC-32 and HEAD of a .vqz (path or bytes).

    Raises ValueError, naming what is wrong, for anything the reference reader would refuse
    at these stages.
    """
    data = source if isinstance(source, (bytes, bytearray)) else open(source, "rb").read()
    if len(data) < 10 or data[:8] != SIGNATURE:
        raise ValueError("not a .vqz file (bad signature or truncated)")
    (version,) = struct.unpack_from("<H", data, 8)
    if version != 1:
        raise ValueError(f"unsupported .vqz version {version} (this reader knows 1)")
    offset, chunks, head = 10, [], None
    while True:
        if len(data) - offset < 8:
            raise ValueError(f"truncated chunk frame at offset {offset}")
        tag = data[offset:offset + 4]
        (length,) = struct.unpack_from("<I", data, offset + 4)
        if not tag.isalpha() or not tag.isascii():
            raise ValueError(f"bad chunk tag at offset {offset}")
        start = offset + 8
        if length > len(data) - start:
            raise ValueError(f"chunk {tag.decode()} runs past the end of the file")
        chunks.append(tag.decode())
        if tag == b"HEAD":
            if head is not None or len(chunks) != 1:
                raise ValueError("HEAD is not the one first chunk")
            head = data[start:start + length]
        if tag == b"DONE":
            if length != 4 or start + 4 != len(data):
                raise ValueError("DONE is not the 4-byte last chunk")
            (stored,) = struct.unpack_from("<I", data, start)
            if zlib.crc32(data[:start]) != stored:
                raise ValueError("CRC-32 mismatch")
            break
        offset = start + length
    if head is None:
        raise ValueError("no HEAD chunk")
    return _head(version, head, chunks)


def _head(version, head, chunks):
    if len(head) < 13:
        raise ValueError("HEAD too short")
    width, height, channels, alpha, n = struct.unpack_from("<IIBBB", head, 0)
    if len(head) < 11 + n + 16 + 8:
        raise ValueError("HEAD too short")
    model = head[11:11 + n].decode("utf-8")
    digest = head[11 + n:27 + n].hex()
    gw, gh, levels, coder, packing = struct.unpack_from("<HHBBB", head, 27 + n)
    if len(head) != 34 + n + 4 * levels:
        raise ValueError(f"HEAD is {len(head)} bytes, its fields need {34 + n + 4 * levels}")
    sizes = list(struct.unpack_from(f"<{levels}I", head, 34 + n))
    if width < 1 or height < 1 or channels not in (1, 3) or alpha not in (0, 1) or not 1 <= levels <= 16:
        raise ValueError("HEAD field out of range")
    return VQZHeader(version, width, height, channels, bool(alpha), model, digest, gw, gh, levels,
                     ENTROPY_CODERS.get(coder, f"unknown {coder}"), PACKINGS.get(packing, f"unknown {packing}"),
                     sizes, chunks)
