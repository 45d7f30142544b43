"""``sigdae live``: enhance standard input to standard output block by block, with a bounded delay.

    arecord -f S16_LE -r 16000 -c 1 | sigdae live | aplay
    ffmpeg -i talk.m4a -f wav - | sigdae live | ffmpeg -f wav -i - clean.m4a

Input is a WAV stream, or raw samples with ``--raw FORMAT --rate R --channels C``; output is in the input's
form and sample format. Each output sample leaves at most the stream's latency (the model's look-ahead plus
one chunk, printed to stderr at the start) after it came in, plus the time the model takes.
"""

from __future__ import annotations

import argparse
import os
import sys

from sigdae.errors import UsageError

RAW_FORMATS = ("s16le", "s24le", "s32le", "f32le")


def add_parser(sub) -> None:
    p = sub.add_parser("live", help="enhance audio from standard input to standard output as it arrives",
                       description="Enhance a live stream: a WAV stream (or raw samples with --raw) on standard "
                                   "input, the enhanced stream in the same form on standard output, block by "
                                   "block. Without --model, the bundled speech model is used.")
    p.add_argument("--model", help="run directory, checkpoint, .onnx file, or a bundled model: speech (default) or "
                        "realtime (causal, 20 ms latency: use it for calls)")
    p.add_argument("--raw", choices=RAW_FORMATS, help="headerless input of this sample format (needs --rate)")
    p.add_argument("--rate", type=int, help="sample rate of --raw input")
    p.add_argument("--channels", type=int, default=1, help="channels of --raw input (default 1)")
    p.add_argument("--block-ms", type=float, default=10.0, help="input read per step, in ms (default 10)")
    p.add_argument("--chunk-ms", type=float,
                   help="audio enhanced at a time, in ms (default: half the model's look-ahead); smaller means "
                        "less delay and more computation")
    p.add_argument("--strength", type=float, default=1.0, help="0..1: blend of denoised and input (default 1)")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--quiet", action="store_true", help="do not print the latency to stderr")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sigdae.api import load_model
    from sigdae.bundled import bundled_model_path
    from sigdae.pcm_stream import PcmFormat, PcmWriter, decode, read_wav_header
    from sigdae.stream import StreamEnhancer, collector_frozen

    if args.block_ms <= 0 or (args.chunk_ms is not None and args.chunk_ms <= 0):
        raise UsageError("--block-ms and --chunk-ms must be positive")
    if not 0.0 <= args.strength <= 1.0:
        raise UsageError(f"--strength must be in [0, 1], got {args.strength}")
    if args.raw and (not args.rate or args.rate < 1 or args.channels < 1):
        raise UsageError("--raw needs --rate (and --channels when not 1) as positive integers")
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    fmt = PcmFormat(args.rate, args.channels, args.raw) if args.raw else read_wav_header(source)
    model = load_model(args.model or bundled_model_path(), device=args.device)
    chunk = None if args.chunk_ms is None else args.chunk_ms / 1000
    stream = StreamEnhancer(model, fmt.sample_rate, fmt.channels, chunk_seconds=chunk, strength=args.strength)
    if not args.quiet:
        print(f"sigdae live: {fmt.sample_rate} Hz, {fmt.channels} channel(s), latency {stream.latency * 1000:.0f} ms "
              "plus computation", file=sys.stderr)
    block_bytes = max(1, round(args.block_ms / 1000 * fmt.sample_rate)) * fmt.frame_bytes
    writer = PcmWriter(sink, fmt, wav=not args.raw)
    try:
        with collector_frozen():  # a full collection over torch's objects would be a dropout
            while data := source.read(block_bytes):
                writer.write(stream.process(decode(data, fmt)).numpy())
            writer.write(stream.flush().numpy())
    except BrokenPipeError:  # the reader went away: stop quietly (Python would complain at exit on flushing)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    writer.close()
    return 0
