"""Denoise a WAV file with a sigdae speech model exported to ONNX, using numpy and onnxruntime only.

    sigdae export RUN_OR_CHECKPOINT model.onnx          # once, where sigdae is installed
    pip install numpy onnxruntime                       # all this script needs
    python onnx_denoise.py model.onnx noisy.wav clean.wav

The WAV file must be 16-bit PCM at the model's sample rate (convert with, e.g., ``ffmpeg -i in.m4a -ar 16000
noisy.wav``); each channel is denoised on its own. A spectral-mask model's graph maps STFT magnitudes to a
gain, so the STFT and its inverse are done here, exactly as the model does them in PyTorch. A causal model
(``sigdae export realtime realtime.onnx``) is run frame by frame, as a real-time loop would: each 10 ms of
input gives 10 ms of output, and the graph's ``past`` carries what the network remembers.
"""

import sys
import wave

import numpy as np
import onnxruntime as ort


def stft(x, n_fft, hop, window):
    """Frames of a centred STFT, as torch.stft(center=True, pad_mode="reflect"): (bins, frames)."""
    padded = np.pad(x, n_fft // 2, mode="reflect")
    frames = 1 + (len(padded) - n_fft) // hop
    index = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    return np.fft.rfft(padded[index] * window, axis=1).T


def istft(spec, n_fft, hop, window, length):
    """The inverse of stft(): windowed overlap-add, divided by the summed squared window."""
    frames = np.fft.irfft(spec.T, n=n_fft, axis=1) * window
    size = n_fft + hop * (frames.shape[0] - 1)
    out, norm = np.zeros(size), np.zeros(size)
    for i, frame in enumerate(frames):
        out[i * hop: i * hop + n_fft] += frame
        norm[i * hop: i * hop + n_fft] += window ** 2
    out = out[n_fft // 2:] / np.where(norm[n_fft // 2:] > 1e-11, norm[n_fft // 2:], 1.0)
    return np.pad(out, (0, max(0, length - len(out))))[:length]


def denoise_causal(session, meta, x):
    """A causal model, one frame per hop. Frame i covers input samples (i + 1) * hop - n_fft to
    (i + 1) * hop; its output is final once the next frames have been added to it."""
    n_fft, hop = int(meta["n_fft"]), int(meta["hop"])
    floor, mask_min = 10 ** (float(meta["floor_db"]) / 20), float(meta["mask_min"])
    window = np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft))  # square-root periodic Hann
    synthesis = window * hop / (window ** 2).sum()
    past = np.zeros((1, int(meta["history"]), int(meta["hidden"])), np.float32)
    lead, frames = n_fft - hop, (len(x) + n_fft - hop - 1) // hop + 1
    padded = np.pad(x, (lead, frames * hop - len(x)))
    out = np.zeros(len(padded))
    for i in range(frames):
        spec = np.fft.rfft(padded[i * hop: i * hop + n_fft] * window)
        logmag = np.log(np.abs(spec) + floor).astype(np.float32)[None, None]
        gain, past = session.run(None, {"input": logmag, "past": past})
        out[i * hop: i * hop + n_fft] += np.fft.irfft(spec * np.maximum(gain[0, 0], mask_min), n_fft) * synthesis
    return out[lead:lead + len(x)].astype(np.float32)


def denoise(session, x):
    """Denoise one channel (float samples in [-1, 1]) with a sigdae ONNX session."""
    meta = session.get_modelmeta().custom_metadata_map
    if meta.get("sigdae_graph") == "causal_mask":
        return denoise_causal(session, meta, x.astype(np.float64))
    if meta.get("sigdae_graph") == "direct":  # a waveform model exported whole: (N, C, T) -> (N, C, T)
        return session.run(None, {"input": x[None, None].astype(np.float32)})[0][0, 0]
    n_fft, hop = int(meta["n_fft"]), int(meta["hop"])
    length = len(x)
    x = np.pad(x, (0, max(0, n_fft // 2 + 1 - length)))  # the centred STFT needs more than half a window
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann, as torch's
    spec = stft(x.astype(np.float64), n_fft, hop, window).astype(np.complex64)
    gain = session.run(None, {"input": np.abs(spec)[None].astype(np.float32)})[0][0]
    return istft(spec * gain, n_fft, hop, window, len(x))[:length].astype(np.float32)


def main(model_path, noisy_path, clean_path):
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    rate = int(session.get_modelmeta().custom_metadata_map["sample_rate"])
    with wave.open(noisy_path, "rb") as f:
        if f.getsampwidth() != 2 or f.getframerate() != rate:
            sys.exit(f"{noisy_path}: need 16-bit PCM at {rate} Hz, got {8 * f.getsampwidth()}-bit at "
                     f"{f.getframerate()} Hz")
        channels = f.getnchannels()
        samples = np.frombuffer(f.readframes(f.getnframes()), "<i2").reshape(-1, channels) / 32768.0
    clean = np.stack([denoise(session, samples[:, c]) for c in range(channels)], axis=1)
    with wave.open(clean_path, "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(np.clip(np.round(clean * 32768), -32768, 32767).astype("<i2").tobytes())


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: python onnx_denoise.py MODEL.onnx NOISY.wav CLEAN.wav")
    main(*sys.argv[1:])
