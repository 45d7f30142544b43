"""PCM audio over pipes, block by block: a WAV stream (header, then samples) or raw samples.

Files go through soundfile; a live stream cannot, since its length is unknown and a pipe cannot seek. A
WAV stream written here has the largest sizes in its header (as ``ffmpeg -f wav -`` and ``arecord`` do)
unless the output can seek, in which case the sizes are fixed when it closes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from sigdae.errors import AudioError

# sample format name -> (numpy dtype, bytes per sample, WAV format tag)
SAMPLE_FORMATS = {"s16le": ("<i2", 2, 1), "s24le": (None, 3, 1), "s32le": ("<i4", 4, 1), "f32le": ("<f4", 4, 3)}
_WAV_FORMAT = {(1, 16): "s16le", (1, 24): "s24le", (1, 32): "s32le", (3, 32): "f32le"}
_EXTENSIBLE = 0xFFFE
_UNKNOWN_SIZE = 0xFFFFFFFF


@dataclass(frozen=True)
class PcmFormat:
    sample_rate: int
    channels: int
    sample_format: str  # a key of SAMPLE_FORMATS

    @property
    def frame_bytes(self) -> int:
        return SAMPLE_FORMATS[self.sample_format][1] * self.channels


def _read_exactly(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n)
    return data if data is not None else b""


def read_wav_header(stream: BinaryIO) -> PcmFormat:
    """Read a WAV header up to the start of its samples; the stream is left at the first sample."""
    head = _read_exactly(stream, 12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        raise AudioError("standard input is not a WAV stream (give --raw FORMAT with --rate and --channels for "
                         "headerless samples)" if head else "standard input is empty")
    fmt = None
    while True:
        chunk = _read_exactly(stream, 8)
        if len(chunk) < 8:
            raise AudioError("the WAV stream ends before its samples start")
        name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if name == b"data":
            if fmt is None:
                raise AudioError("the WAV stream has no format chunk before its samples")
            return fmt
        body = _read_exactly(stream, size + (size & 1))
        if name == b"fmt ":
            tag, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            if tag == _EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]
            if (tag, bits) not in _WAV_FORMAT or channels < 1 or rate < 1:
                raise AudioError(f"unsupported WAV stream (format tag {tag}, {bits} bits): "
                                 "use 16-, 24- or 32-bit PCM or 32-bit float")
            fmt = PcmFormat(rate, channels, _WAV_FORMAT[(tag, bits)])


def wav_header(fmt: PcmFormat, data_bytes: int = _UNKNOWN_SIZE) -> bytes:
    """A 44-byte WAV header; the default sizes say "until the stream ends"."""
    _, width, tag = SAMPLE_FORMATS[fmt.sample_format]
    riff = _UNKNOWN_SIZE if data_bytes == _UNKNOWN_SIZE else 36 + data_bytes
    return (b"RIFF" + struct.pack("<I", riff) + b"WAVE" + b"fmt " +
            struct.pack("<IHHIIHH", 16, tag, fmt.channels, fmt.sample_rate, fmt.sample_rate * fmt.frame_bytes,
                        fmt.frame_bytes, width * 8) + b"data" + struct.pack("<I", data_bytes))


def decode(data: bytes, fmt: PcmFormat) -> np.ndarray:
    """Interleaved samples -> float32 (channels, frames) in [-1, 1]; a trailing partial frame is dropped."""
    dtype, width, _ = SAMPLE_FORMATS[fmt.sample_format]
    frames = len(data) // fmt.frame_bytes
    data = data[: frames * fmt.frame_bytes]
    if fmt.sample_format == "s24le":
        raw = np.frombuffer(data, np.uint8).reshape(-1, 3)
        values = (raw[:, 0].astype(np.int32) | raw[:, 1].astype(np.int32) << 8 | raw[:, 2].astype(np.int32) << 16)
        x = ((values << 8) >> 8).astype(np.float32) / 2 ** 23
    elif fmt.sample_format == "f32le":
        x = np.frombuffer(data, dtype).astype(np.float32)
    else:
        x = np.frombuffer(data, dtype).astype(np.float32) / 2 ** (8 * width - 1)
    return x.reshape(frames, fmt.channels).T


def encode(x: np.ndarray, fmt: PcmFormat) -> bytes:
    """float (channels, frames) -> interleaved samples; integer formats clip to [-1, 1)."""
    frames = np.ascontiguousarray(np.asarray(x, np.float32).T)
    dtype, width, _ = SAMPLE_FORMATS[fmt.sample_format]
    if fmt.sample_format == "f32le":
        return frames.astype(dtype).tobytes()
    scale = 2 ** (8 * width - 1)
    ints = np.clip(np.round(frames.astype(np.float64) * scale), -scale, scale - 1).astype(np.int32)
    if fmt.sample_format == "s24le":
        return ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    return ints.astype(dtype).tobytes()


class PcmWriter:
    """Writes blocks to a binary stream, after a WAV header when ``wav``; fixes the header's sizes on
    :meth:`close` when the stream can seek."""

    def __init__(self, stream: BinaryIO, fmt: PcmFormat, wav: bool):
        self.stream, self.fmt, self.wav, self.written = stream, fmt, wav, 0
        if wav:
            stream.write(wav_header(fmt))

    def write(self, block: np.ndarray) -> None:
        data = encode(block, self.fmt)
        if data:
            self.stream.write(data)
            self.stream.flush()
            self.written += len(data)

    def close(self) -> None:
        self.stream.flush()
        if self.wav and self.written < _UNKNOWN_SIZE - 36:
            try:
                if self.stream.seekable():
                    self.stream.seek(0)
                    self.stream.write(wav_header(self.fmt, self.written))
                    self.stream.flush()
            except OSError:  # a pipe that claims otherwise: the open-ended header stays
                pass
