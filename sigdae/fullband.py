"""Full-band output from a model that works at a lower rate (a band split).

A speech model trained at 16 kHz sees 0-8 kHz. For a 44.1 or 48 kHz input, the band below the crossover
comes from the model's output; the band above it keeps the input, with a gain per perceptual (ERB) band
and STFT frame that removes the noise there:

* the noise in each upper band is tracked from the frames the model itself treats as noise (its gain near
  the top of its own band is low there), bounded by the band's running minimum (minimum statistics);
* the gain is a Wiener gain, ``1 - noise / power``, scaled down where the model's gain near its top says
  the frame is noise (unless the model passes speech in its band and the upper band's own SNR is high: a
  clean upper band over noise that stops below it), and never below -40 dB;
* a raised-cosine crossover blends the model's output into the upper band's, and above it the gain moves
  from the model's own just below the crossover to the band gains, so there is no seam.

Everything is computed on STFT frames centred on absolute multiples of the hop and looks at most
:meth:`BandSplit.reach` samples to each side, so a chunk enhanced with that much context on each side
equals the whole signal enhanced at once.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

BANDS = ("full", "model")       # full: the whole input band; model: the model's band alone
HOP_SECONDS = 0.008             # STFT hop; the window is four hops (75 % overlap)
CROSSOVER = (0.875, 0.975)      # where the model's output fades out, as fractions of its Nyquist frequency
REFERENCE = (0.55, 0.92)        # where the model's own gain is read, as fractions of its Nyquist frequency
EDGE = (0.8, 0.875)             # the model's gain just below the crossover ...
MERGE = 1.1                     # ... which the upper band's gains take over from, up to here
NOISE_SECONDS = 0.5             # half-width of the noise tracker's window
SMOOTH_FRAMES = 1               # band powers are averaged over +-1 frame
MIN_STATS_BIAS = 1.5            # a running minimum of smoothed band power under-reads the noise mean
SPEECH_GAIN = 0.5               # at or above this model gain, a frame is taken as speech
BAND_FROM_HZ = 100              # the model's gain over its whole band is read from here up
GAIN_FLOOR = 0.01               # -40 dB: the deepest cut in the upper band


def _power(spectrum: torch.Tensor) -> torch.Tensor:
    return spectrum.real ** 2 + spectrum.imag ** 2


def erb_number(hz: float) -> float:
    return 21.4 * math.log10(1.0 + 0.00437 * hz)


def erb_hz(number: float) -> float:
    return (10 ** (number / 21.4) - 1.0) / 0.00437


class BandSplit:
    """The upper band of signals at ``rate`` above a model working at ``model_rate``."""

    def __init__(self, model_rate: int, rate: int):
        if rate <= model_rate:
            raise ValueError(f"a band split needs a rate above the model's ({rate} <= {model_rate})")
        self.rate, self.model_rate = int(rate), int(model_rate)
        self.hop = max(1, round(rate * HOP_SECONDS))
        self.n_fft = 4 * self.hop
        self.window = torch.hann_window(self.n_fft, periodic=True, dtype=torch.float64).float()
        freqs = torch.arange(self.n_fft // 2 + 1, dtype=torch.float64) * rate / self.n_fft
        nyquist = model_rate / 2
        lo, hi = CROSSOVER[0] * nyquist, CROSSOVER[1] * nyquist
        ramp = ((freqs - lo) / (hi - lo)).clamp(0, 1)
        self.low_weight = (0.5 * (1 + torch.cos(math.pi * ramp))).float()
        self.reference = ((freqs >= REFERENCE[0] * nyquist) & (freqs <= REFERENCE[1] * nyquist)).float()
        self.edge = ((freqs >= EDGE[0] * nyquist) & (freqs < EDGE[1] * nyquist)).float()
        self.takeover = ((freqs - lo) / (MERGE * nyquist - lo)).clamp(0, 1).float()
        self.first_bin = int(torch.nonzero(self.reference)[0])
        self.band_from = int(torch.nonzero(freqs >= BAND_FROM_HZ)[0])
        inside = torch.nonzero((self.takeover > 0) & (self.takeover < 1)).flatten() - self.first_bin
        self.takeover_bins = (int(inside[0]), int(inside[-1]) + 1) if inside.numel() else (0, 0)
        self.bands, self.spread = self._bands(freqs, lo, rate / 2)
        self.noise_frames = max(1, round(NOISE_SECONDS / HOP_SECONDS))

    @staticmethod
    def _bands(freqs: torch.Tensor, lo: float, top: float) -> tuple[torch.Tensor, torch.Tensor]:
        """(bins x bands) averaging weights over ERB-wide bands from ``lo`` up, and (bands x bins) linear
        interpolation of band values at the band centres back onto the bins."""
        count = max(1, round(erb_number(top) - erb_number(lo)))
        step = (erb_number(top) - erb_number(lo)) / count
        edges = [erb_hz(erb_number(lo) + k * step) for k in range(count + 1)]
        edges[-1] = top + 1.0
        members = torch.stack([((freqs >= a) & (freqs < b)).double() for a, b in zip(edges, edges[1:])], dim=1)
        empty = members.sum(0) == 0
        if empty.any():  # a band narrower than a bin: take the nearest bin
            for k in torch.nonzero(empty).flatten().tolist():
                members[torch.argmin((freqs - (edges[k] + edges[k + 1]) / 2).abs()), k] = 1.0
        average = members / members.sum(0, keepdim=True)
        centres = (freqs[:, None] * average).sum(0)
        spread = torch.zeros(count, freqs.numel(), dtype=torch.float64)
        bins = torch.arange(freqs.numel())
        upper = torch.searchsorted(centres, freqs).clamp(1, max(1, count - 1))
        lower = upper - 1
        if count == 1:
            spread[0] = 1.0
        else:  # linear between neighbouring centres, constant beyond the first and the last
            t = ((freqs - centres[lower]) / (centres[upper] - centres[lower])).clamp(0, 1)
            spread[lower, bins], spread[upper, bins] = 1 - t, t
        return average.float(), spread.float()

    def reach(self) -> int:
        """Samples on each side of an output sample that it depends on."""
        frames = self.noise_frames + 2 * SMOOTH_FRAMES + 2
        return self.n_fft + frames * self.hop

    def _frames(self, x: torch.Tensor, offset: int) -> tuple[torch.Tensor, int]:
        """STFT of (N, T) ``x`` with frames centred on multiples of the hop counted from ``offset``; and the
        left padding used, for :meth:`_overlap_add`."""
        first = (-offset) % self.hop
        left = self.n_fft + self.hop - first
        padded = F.pad(x, (left, self.n_fft + self.hop))
        frames = padded.unfold(-1, self.n_fft, self.hop) * self.window.to(x.device)
        return torch.fft.rfft(frames, dim=-1), left

    def _overlap_add(self, spectra: torch.Tensor, left: int, length: int) -> torch.Tensor:
        """Inverse of :meth:`_frames` (weighted overlap-add: the window, then divided by its squares' sum)."""
        window = self.window.to(spectra.device)
        quarters = (torch.fft.irfft(spectra, n=self.n_fft, dim=-1) * window).unflatten(-1, (4, self.hop))
        n, count = quarters.shape[:2]
        out = quarters.new_zeros(n, count + 3, self.hop)
        for j in range(4):  # a window is four hops: each frame adds its quarters to four consecutive blocks
            out[:, j:j + count] += quarters[:, :, j]
        squares = (window ** 2).reshape(4, self.hop)
        norm = squares.sum(0).repeat(count + 3, 1)
        for m in range(3):  # the first and last three blocks have fewer frames over them
            norm[m] = squares[:m + 1].sum(0)
            norm[count + m] = squares[m + 1:].sum(0)
        return (out / norm).flatten(1)[:, left:left + length]

    def gains(self, noisy_power: torch.Tensor, top_gain: torch.Tensor, band_gain: torch.Tensor,
              inside: torch.Tensor) -> torch.Tensor:
        """Upper-band gains (N, K, bands) from band powers (N, K, bands) and, per frame (N, K), the model's
        gain near the top of its band and over its whole band; the noise is tracked on the frames ``inside``
        the signal (K,) only, since frames over its ends hold zeros."""
        power = F.avg_pool1d(noisy_power.transpose(1, 2), 2 * SMOOTH_FRAMES + 1, 1, SMOOTH_FRAMES,
                             count_include_pad=False)  # (N, bands, K)
        noise_weight = ((1 - top_gain).clamp(0, 1) ** 2 + 1e-4) * inside
        kernel = torch.hann_window(2 * self.noise_frames + 3, periodic=False, device=power.device)[1:-1]
        n, bands, k = power.shape
        conv = dict(padding=self.noise_frames)
        weighted = F.conv1d((power * noise_weight[:, None]).reshape(n * bands, 1, k), kernel[None, None], **conv)
        tracked = weighted.reshape(n, bands, k) / F.conv1d(noise_weight[:, None], kernel[None, None], **conv)
        minimum = -F.max_pool1d(-power.masked_fill(~inside, torch.inf), 2 * self.noise_frames + 1, 1,
                                self.noise_frames)
        noise = torch.minimum(tracked, MIN_STATS_BIAS * minimum)
        wiener = (1 - noise / power.clamp_min(1e-20)).clamp(0, 1)
        # where the model's top says noise, the upper band is cut, unless the model passes speech in its band
        # and the upper band's own SNR is high (a clean upper band over noise that stops below it)
        noise_like = 1 - (top_gain / SPEECH_GAIN).clamp(max=1)[:, None]
        speech = (band_gain / SPEECH_GAIN).clamp(max=1)[:, None]
        gain = wiener * (1 - noise_like * (1 - speech * wiener ** 4))
        return gain.clamp(min=GAIN_FLOOR).transpose(1, 2)

    def _model_gain(self, x_power: torch.Tensor, y_power: torch.Tensor) -> torch.Tensor:
        """The model's amplitude gain per frame (N, K) from summed powers (N, K), averaged over +-1 frame."""
        eps = 1e-10 * self.n_fft
        gain = ((y_power + eps) / (x_power + eps)).sqrt().clamp(0, 1)
        return F.avg_pool1d(gain[:, None], 3, 1, 1, count_include_pad=False)[:, 0]

    def __call__(self, noisy: torch.Tensor, model_out: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """Full-band output (N, T) from the input ``noisy`` and the model's output ``model_out`` (N, T), both
        at ``rate``; ``offset`` is the absolute position of the first sample (for chunked processing)."""
        length = noisy.shape[-1]
        x, left = self._frames(noisy.float(), offset)
        y, _ = self._frames(model_out.float(), offset)
        device, first = x.device, self.first_bin  # bins below the reference band are the model's output as is
        xs, ys = x[..., first:], y[..., first:]
        x_power, y_power = _power(xs), _power(ys)
        reference, edge = self.reference[first:].to(device), self.edge[first:].to(device)
        x_top, y_top = x_power @ reference, y_power @ reference
        below = slice(self.band_from, first)
        x_band = x_top + _power(x[..., below]).sum(-1)
        y_band = y_top + _power(y[..., below]).sum(-1)
        top_gain, band_gain = self._model_gain(x_top, y_top), self._model_gain(x_band, y_band)
        starts = torch.arange(x.shape[-2], device=device) * self.hop - left  # of each frame, in the signal
        inside = (starts >= 0) & (starts + self.n_fft <= length)
        if not inside.any():  # shorter than a window: every frame reaches past an end
            inside[:] = True
        band_power = x_power @ self.bands[first:].to(device)
        gain = self.gains(band_power, top_gain, band_gain, inside) @ self.spread[:, first:].to(device)
        # from the crossover up, the gain moves from the model's own at its edge to the band gains (in dB),
        # so the output's spectrum has no step where the model's output fades out
        edge_gain = self._model_gain(x_power @ edge, y_power @ edge).clamp(min=GAIN_FLOOR)[..., None]
        a, b = self.takeover_bins
        takeover = self.takeover[first + a:first + b].to(device)
        gain[..., a:b] = edge_gain ** (1 - takeover) * gain[..., a:b] ** takeover
        low = self.low_weight[first:].to(device)
        y[..., first:] = low * ys + (1 - low) * gain * xs
        return self._overlap_add(y, left, length)
