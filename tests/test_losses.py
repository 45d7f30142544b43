import math

import pytest
import torch
import torch.nn.functional as F

torch.set_num_threads(1)

from sigdae.losses import LOSSES, CombinedLoss, build_loss, parse_loss_spec, weight_penalty  # noqa: E402

PRED = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
TARGET = torch.tensor([[1.0, 1.0], [2.0, 5.0]])
SMALL_STFT = {"fft_sizes": [64, 128, 32], "hop_sizes": [16, 32, 8], "win_lengths": [64, 96, 32]}


def loss(name, **options):
    base = LOSSES.get(name)
    return type(base)(**options) if options else base


def test_all_losses_registered():
    expected = {"mse", "l1", "bce", "psnr", "charbonnier", "stft", "spectral", "si_sdr", "compressed",
                "perceptual", "stoi"}
    assert expected <= set(LOSSES.list())


def test_mse_l1_charbonnier_hand_computed():
    assert loss("mse")(PRED, TARGET).item() == pytest.approx((1 + 0 + 0 + 4) / 4)
    assert loss("l1")(PRED, TARGET).item() == pytest.approx((1 + 0 + 0 + 2) / 4)
    eps = 1e-3
    expected = (math.sqrt(1 + eps**2) + eps + eps + math.sqrt(4 + eps**2)) / 4
    assert loss("charbonnier")(PRED, TARGET).item() == pytest.approx(expected, rel=1e-6)
    assert loss("charbonnier", eps=0.5)(torch.zeros(3), torch.zeros(3)).item() == pytest.approx(0.5)


def test_shape_mismatch_is_one_line_value_error():
    with pytest.raises(ValueError, match=r"\(2, 2\).*\(4,\)"):
        loss("mse")(PRED, torch.zeros(4))


def test_bce_hand_computed_and_clamped():
    assert loss("bce")(torch.tensor([0.5]), torch.tensor([1.0])).item() == pytest.approx(math.log(2))
    # float64: in float32, 1 - 1e-7 is not representable exactly
    value = loss("bce")(torch.tensor([0.0, 1.0], dtype=torch.float64), torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert math.isfinite(value.item()) and value.item() == pytest.approx(-math.log(1e-7), rel=1e-3)


def test_bce_with_logits_equals_bce_on_sigmoid():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 1, 5, 5, generator=g) * 3
    target = torch.rand(4, 1, 5, 5, generator=g)
    bce = loss("bce")
    assert torch.allclose(bce(torch.sigmoid(logits), target, logits=logits),
                          bce(torch.sigmoid(logits), target), atol=1e-5)
    # where probabilities saturate, the logits path stays exact: target 0, logit 100 -> loss 100
    extreme = torch.tensor([100.0])
    assert bce(torch.sigmoid(extreme), torch.zeros(1), logits=extreme).item() == pytest.approx(100.0)


def test_psnr_loss_is_negative_mean_per_sample_psnr():
    target = torch.zeros(2, 1, 2, 2)
    pred = torch.stack([torch.full((1, 2, 2), 0.1), torch.full((1, 2, 2), 0.01)])  # MSE 1e-2 and 1e-4
    assert loss("psnr")(pred, target).item() == pytest.approx(-(20 + 40) / 2, abs=1e-4)
    g = torch.Generator().manual_seed(1)
    clean = torch.rand(3, 1, 4, 4, generator=g)
    noisy = clean + 0.1 * torch.randn(3, 1, 4, 4, generator=g)
    mse_i = ((noisy - clean) ** 2).reshape(3, -1).mean(1)
    mean_psnr = (10 * torch.log10(1 / mse_i)).mean()
    assert loss("psnr")(noisy, clean).item() == pytest.approx(-mean_psnr.item(), abs=1e-4)
    # data range 2: PSNR grows by 20*log10(2) dB
    assert loss("psnr", data_range=2.0)(noisy, clean).item() == pytest.approx(
        -mean_psnr.item() - 20 * math.log10(2), abs=1e-4)


def test_psnr_loss_is_not_psnr_of_the_batch_mse():
    target = torch.zeros(2, 4)
    pred = torch.stack([torch.full((4,), 0.1), torch.full((4,), 0.01)])
    batch_psnr = 10 * math.log10(1 / ((0.01 + 0.0001) / 2))
    assert loss("psnr")(pred, target).item() != pytest.approx(-batch_psnr, abs=1e-2)


def _speech_like(n=2, t=4000, seed=0):
    g = torch.Generator().manual_seed(seed)
    time = torch.arange(t) / 16000
    f0 = 100 + 100 * torch.rand(n, 1, 1, generator=g)
    return sum(torch.sin(2 * math.pi * k * f0 * time) / k for k in range(1, 5)) * 0.2


def test_stft_loss_zero_for_identical_and_decreases_with_noise():
    clean = _speech_like()
    g = torch.Generator().manual_seed(2)
    noise = torch.randn(clean.shape, generator=g)
    for stft in (loss("stft"), loss("stft", **SMALL_STFT)):
        assert stft(clean, clean).item() == pytest.approx(0.0, abs=1e-6)
        values = [stft(clean + level * noise, clean).item() for level in (0.3, 0.1, 0.03, 0.01)]
        assert all(a > b for a, b in zip(values, values[1:])), values
        assert values[-1] > 0
    assert loss("stft", **SMALL_STFT)(clean[:, 0], clean[:, 0] * 0.5).item() > 0  # (N, T) works too


def test_stft_loss_has_gradient_and_rejects_bad_config():
    clean = _speech_like(t=1000)
    pred = (clean + 0.1).requires_grad_(True)
    loss("stft", **SMALL_STFT)(pred, clean).backward()
    assert torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="same length"):
        loss("stft", fft_sizes=[64, 128], hop_sizes=[16], win_lengths=[64])
    with pytest.raises(ValueError, match="waveform"):
        loss("stft")(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4))


def test_spectral_loss_on_waveforms_and_images():
    clean = _speech_like()
    spectral = loss("spectral", n_fft=128, hop=32, win_length=128)
    assert spectral(clean, clean).item() == pytest.approx(0.0, abs=1e-6)
    assert spectral(clean + 0.05 * torch.randn_like(clean), clean).item() > 0
    g = torch.Generator().manual_seed(3)
    image = torch.rand(2, 1, 16, 16, generator=g)
    assert loss("spectral")(image, image).item() == pytest.approx(0.0, abs=1e-6)
    # a 2-D Fourier magnitude loss ignores circular shifts, which L1 does not
    shifted = torch.roll(image, shifts=(3, 5), dims=(2, 3))
    assert loss("spectral")(shifted, image).item() == pytest.approx(0.0, abs=1e-4)
    assert loss("l1")(shifted, image).item() > 0.1
    assert loss("spectral")(image * 0.5, image).item() == pytest.approx(math.log(2), rel=1e-3)


def test_compressed_loss_hand_computed_for_gain_and_phase():
    # a noise floor keeps every bin above the loss's eps, so the closed forms below hold exactly
    clean = _speech_like() + 0.01 * torch.randn(2, 1, 4000, generator=torch.Generator().manual_seed(4))
    compressed = loss("compressed", n_fft=128, hop=32, win_length=128)
    spec = torch.stft(clean.reshape(-1, clean.shape[-1]), n_fft=128, hop_length=32, win_length=128,
                      window=torch.hann_window(128), pad_mode="constant", return_complex=True)
    energy = spec.abs().pow(2 * 0.3).mean().item()  # mean |S|^(2c)
    assert compressed(clean, clean).item() == pytest.approx(0.0, abs=1e-7)
    # a gain a scales every compressed magnitude by a^c, on the magnitudes and the complex values alike
    assert compressed(2.0 * clean, clean).item() == pytest.approx((2.0 ** 0.3 - 1) ** 2 * energy, rel=1e-3)
    # a sign flip leaves the magnitudes alone; only the complex term (weight 0.3) sees it: |2 S_c|^2
    assert compressed(-clean, clean).item() == pytest.approx(0.3 * 4 * energy, rel=1e-3)
    assert loss("compressed", n_fft=128, hop=32, win_length=128, complex_weight=0.0)(-clean, clean).item() == \
        pytest.approx(0.0, abs=1e-6)


def test_compressed_loss_gradient_finite_at_silence_and_bad_config():
    target = _speech_like(t=1000)
    pred = torch.zeros_like(target).requires_grad_(True)
    loss("compressed", n_fft=128, hop=32, win_length=128)(pred, target).backward()
    assert torch.isfinite(pred.grad).all()
    for bad in ({"power": 0.0}, {"power": 1.5}, {"win_length": 1024}, {"n_fft": 0}):
        with pytest.raises(ValueError, match="compressed"):
            loss("compressed", **bad)


def test_si_sdr_hand_computed_and_scale_invariant():
    target = torch.tensor([[1.0, -1.0, 1.0, -1.0]])
    orthogonal = torch.tensor([[1.0, 1.0, -1.0, -1.0]])
    pred = target + 0.5 * orthogonal  # ||target||^2 = 4, ||noise||^2 = 1
    si_sdr = loss("si_sdr")
    assert si_sdr(pred, target).item() == pytest.approx(-10 * math.log10(4), abs=1e-5)
    g = torch.Generator().manual_seed(4)
    clean = torch.randn(3, 1, 200, generator=g)
    noisy = clean + 0.3 * torch.randn(3, 1, 200, generator=g)
    base = si_sdr(noisy, clean).item()
    for scale in (0.01, 3.0, 250.0):
        assert si_sdr(scale * noisy, clean).item() == pytest.approx(base, abs=1e-3)
    assert si_sdr(noisy + 5.0, clean).item() == pytest.approx(base, abs=1e-3)  # offset-invariant too
    assert si_sdr(clean, clean).item() < -60


def test_combined_loss_string_and_dict_specs_agree_and_expose_parts():
    g = torch.Generator().manual_seed(5)
    pred, target = torch.rand(2, 1, 8, 8, generator=g), torch.rand(2, 1, 8, 8, generator=g)
    combined = build_loss("l1*1.0 + mse*0.5")
    assert isinstance(combined, CombinedLoss)
    total = combined(pred, target)
    l1, mse = F.l1_loss(pred, target).item(), F.mse_loss(pred, target).item()
    assert total.item() == pytest.approx(l1 + 0.5 * mse, rel=1e-6)
    assert combined.last_parts == pytest.approx({"l1": l1, "mse": mse})
    assert build_loss({"l1": 1.0, "mse": 0.5})(pred, target).item() == pytest.approx(total.item())
    assert build_loss("0.5*mse + l1")(pred, target).item() == pytest.approx(total.item())
    assert parse_loss_spec("bce") == [("bce", 1.0)]
    assert build_loss(combined) is combined


def test_combined_loss_passes_logits_and_options():
    logits = torch.tensor([[-2.0, 0.5, 3.0]])
    target = torch.tensor([[0.0, 1.0, 1.0]])
    bce = build_loss("bce")
    assert bce(torch.sigmoid(logits), target, logits=logits).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(logits, target).item())
    clean = _speech_like(t=1000)
    spec = {"stft": {"weight": 0.5, **SMALL_STFT}}
    value = build_loss(spec)(clean + 0.1, clean)
    assert value.item() == pytest.approx(0.5 * loss("stft", **SMALL_STFT)(clean + 0.1, clean).item())


def test_bad_specs_raise_one_line_value_errors():
    with pytest.raises(ValueError) as info:
        build_loss("l1 + nosuchloss*2")
    message = str(info.value)
    assert "nosuchloss" in message and "mse" in message and "stft" in message and "\n" not in message
    for bad in ("l1 * * 2", "l1 + l1", {"l1": -1.0}, {"stft": {"nfft": 3}}, "", 3):
        with pytest.raises(ValueError):
            build_loss(bad)


def test_weight_penalty_counts_weights_only():
    torch.manual_seed(6)
    model = torch.nn.Sequential(torch.nn.Conv1d(2, 3, 3), torch.nn.BatchNorm1d(3), torch.nn.Flatten(),
                                torch.nn.Linear(6, 4), torch.nn.LayerNorm(4))
    conv, linear = model[0].weight, model[3].weight
    l1 = conv.abs().sum() + linear.abs().sum()
    l2 = conv.pow(2).sum() + linear.pow(2).sum()
    assert weight_penalty(model, l1=0.1).item() == pytest.approx(0.1 * l1.item(), rel=1e-6)
    assert weight_penalty(model, l2=0.2).item() == pytest.approx(0.2 * l2.item(), rel=1e-6)
    assert weight_penalty(model).item() == 0.0
    weight_penalty(model, l2=0.5).backward()
    assert torch.allclose(linear.grad, linear.detach())  # d/dw of 0.5*w^2 = w
    assert model[3].bias.grad is None and model[1].weight.grad is None and model[4].weight.grad is None
