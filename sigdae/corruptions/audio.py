"""Audio corruptions for waveforms ``(N, C, T)`` or ``(N, T)``; importing this registers them.

Noise at a per-sample SNR (:mod:`audio_noise`): ``colored_noise``, ``noise_file``, ``babble``, ``hum``.
Effects (:mod:`audio_effects`): ``reverb``, ``clipping``, ``bandlimit``, ``dropout``, ``gain``.
"""

from sigdae.corruptions import audio_effects as _effects  # noqa: F401  (registers the effects)
from sigdae.corruptions import audio_noise as _noise  # noqa: F401  (registers the noises)
from sigdae.corruptions.audio_common import clear_banks

__all__ = ["clear_banks"]
