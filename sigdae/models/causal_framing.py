"""The framing of a causal STFT mask model, whatever computes its gains (PyTorch or an ONNX graph).

Frames of ``n_fft`` samples at ``hop`` spacing under a square-root Hann window, each frame's spectrum
times a gain per bin, then windowed overlap-add. The first frame ends at the first sample, so an output
sample depends on at most one window of input after it. A stream takes any number of samples per call
and returns those now final, running ``n_fft - hop`` samples behind its input.

A class using this sets up with :meth:`init_framing` and provides ``stream_start(batch)`` (the gain
computation's own state entries) and ``frame_gains(logmag, state)`` ((B, K, bins) log magnitudes ->
gains, updating ``state``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F


class CausalFraming:
    """Mixin for an ``nn.Module``: framing, whole-signal and stream paths around ``frame_gains``."""

    n_fft: int
    hop: int
    # Files go through in chunks, each after the model's whole past (2.5 s for the bundled model) computed
    # again: long chunks recompute less, and a minute of a small causal model's activations is cheap (the
    # bundled one peaks about 35 MB higher on 60 s chunks than on 15 s ones).
    chunk_seconds = 60.0

    def init_framing(self, n_fft: int, hop: int, floor_db: float, mask_min: float) -> None:
        self.n_fft, self.hop, self.mask_min = n_fft, hop, mask_min
        self.floor = 10 ** (floor_db / 20)
        window = torch.hann_window(n_fft).sqrt()
        self.register_buffer("window", window, persistent=False)
        # the analysis x synthesis windows overlap-add to this constant at every sample
        self.gain = float((window ** 2).sum()) / hop

    @property
    def time_multiple(self) -> int:
        return self.hop

    @property
    def lookahead_samples(self) -> int:
        """How far ahead of an output sample the input it depends on reaches: one window, less a sample."""
        return self.n_fft - 1

    @property
    def lead(self) -> int:
        """Samples the output runs behind the input in a stream."""
        return self.n_fft - self.hop

    def frames_of(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T) -> (N * C, K, n_fft) frames covering every sample, the first ending at sample 0."""
        n, c, t = x.shape
        count = (t - 1 + self.lead) // self.hop + 1 if t else 0
        flat = F.pad(x.reshape(n * c, t).float(), (self.lead, (count - 1) * self.hop + self.hop - t))
        return flat.unfold(-1, self.n_fft, self.hop)

    def from_frames(self, frames: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Enhanced frames of :meth:`frames_of` -> a signal shaped and typed as ``like``."""
        n, c, t = like.shape
        return self.overlap_add(frames)[:, self.lead:self.lead + t].reshape(n, c, t).to(like.dtype)

    def overlap_add(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, K, n_fft) frames at hop spacing -> (B, (K - 1) * hop + n_fft) samples."""
        b, k, _ = frames.shape
        if k == 1:
            return frames[:, 0]
        return F.fold(frames.transpose(1, 2), (1, (k - 1) * self.hop + self.n_fft), (1, self.n_fft),
                      stride=(1, self.hop)).reshape(b, -1)

    def enhanced_frames(self, frames: torch.Tensor, state: dict[str, Any]) -> torch.Tensor:
        """Time frames (B, K, n_fft) -> enhanced windowed frames, with the gains of ``frame_gains``."""
        spec = torch.fft.rfft(frames * self.window, dim=-1)  # (B, K, bins)
        gain = self.frame_gains(torch.log(spec.abs() + self.floor), state)
        if self.mask_min:
            gain = gain.clamp_min(self.mask_min)
        return torch.fft.irfft(spec * gain, n=self.n_fft, dim=-1) * (self.window / self.gain)

    def stream_state(self, batch: int) -> dict[str, Any]:
        """The state of ``batch`` streams at their start, for :meth:`stream`."""
        device = self.window.device
        return {"input": torch.zeros(batch, self.lead, device=device), "tail": torch.zeros(batch, self.lead,
                device=device), "skip": self.lead, **self.stream_start(batch)}

    @torch.inference_mode()
    def stream(self, x: torch.Tensor, state: dict[str, Any]) -> torch.Tensor:
        """Take the next samples (B, n) of ``batch`` streams and return the enhanced samples now final,
        (B, m): the output runs ``n_fft - hop`` samples behind the input, in whole hops, so at a stream's
        end ``n_fft`` samples of silence push out the rest."""
        pending = torch.cat([state["input"], x.float()], dim=-1)
        count = (pending.shape[-1] - self.n_fft) // self.hop + 1 if pending.shape[-1] >= self.n_fft else 0
        if count == 0:
            state["input"] = pending
            return pending.new_zeros(pending.shape[0], 0)
        summed = self.overlap_add(self.enhanced_frames(pending.unfold(-1, self.n_fft, self.hop)[:, :count], state))
        summed[:, :self.lead] += state["tail"]
        state["input"] = pending[:, count * self.hop:]
        state["tail"] = summed[:, count * self.hop:]
        skip = min(state["skip"], count * self.hop)  # the first frames' output before the signal's start
        state["skip"] -= skip
        return summed[:, skip:count * self.hop]

    @torch.inference_mode()
    def stream_whole(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T) enhanced in one pass of the stream's computation, from a fresh state."""
        frames = self.frames_of(x)
        if frames.shape[1] == 0:
            return x.clone()
        return self.from_frames(self.enhanced_frames(frames, self.stream_state(frames.shape[0])), x)
