"""The conv encoder/decoder: shapes, strides, skips, bottleneck, causality, config errors, size."""

import torch

torch.set_num_threads(1)

import pytest  # noqa: E402

from sigdae.models import ModelError, build_model  # noqa: E402
from sigdae.models.conv import ConvAutoencoder  # noqa: E402


def conv(**config):
    torch.manual_seed(0)
    return build_model("conv", **config)


# ---- shapes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(28, 28), (27, 29), (1, 1), (5, 31), (32, 16)])
def test_dim2_output_shape_equals_input_shape_odd_sizes(size):
    model = conv(dim=2, in_channels=1, channels=[4, 8, 8])
    x = torch.rand(2, 1, *size)
    y = model(x)
    assert y.shape == x.shape
    assert y.dtype == x.dtype
    assert torch.isfinite(y).all()
    assert ((y >= 0) & (y <= 1)).all()  # sigmoid output


@pytest.mark.parametrize("length", [1, 7, 33, 64, 101])
def test_dim1_output_shape_equals_input_shape_odd_lengths(length):
    model = conv(dim=1, in_channels=2, channels=[4, 8, 8], stride=4, output_activation="identity")
    x = torch.randn(3, 2, length)
    y = model(x)
    assert y.shape == x.shape
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("dim, size", [(2, (28, 28)), (2, (27, 13)), (1, (101,)), (1, (8,))])
def test_patch_input_keeps_shapes_and_runs_the_first_level_at_lower_resolution(dim, size):
    model = conv(dim=dim, channels=[8, 16], blocks=[1, 2], patch=2, output_activation="identity")
    x = torch.randn(2, 1, *size)
    assert model(x).shape == x.shape
    seen = []
    model.encoders[0].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    model(torch.randn(1, 1, *(4 * s for s in (7,) * dim)))
    assert seen[0][1:] == (8, *(14,) * dim)  # 28 -> 14 by the patch
    assert len([m for m in model.encoders[0] if isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d))]) == 1
    assert len([m for m in model.encoders[1] if isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d))]) == 2


def test_one_block_count_in_a_list_applies_to_every_level():
    listed, plain = conv(channels=[4, 8, 8], blocks=[1]), conv(channels=[4, 8, 8], blocks=1)
    assert listed.num_parameters() == plain.num_parameters()
    assert listed(torch.rand(2, 1, 12, 12)).shape == (2, 1, 12, 12)


@pytest.mark.parametrize("dim,size", [(1, (37,)), (2, (27, 29))])
def test_coords_keep_shapes_and_make_the_output_depend_on_position(dim, size):
    model = conv(dim=dim, channels=[4, 8], coords=True, norm="none", output_activation="identity").eval()
    x = torch.randn(2, 1, *size)
    assert model(x).shape == x.shape
    assert model.encoders[0][0].in_channels == 1 + dim  # the signal and one position channel per axis
    # a constant input has nothing that tells positions apart, except the coordinate channels
    inner = (0, 0) + tuple(slice(1, s - 1) for s in size)
    assert model(torch.zeros(1, 1, *size))[inner].diff(dim=-1).abs().min() > 0


def test_coordinate_grid_spans_minus_one_to_one_along_each_axis():
    from sigdae.models.conv import coordinate_grid

    grid = coordinate_grid(torch.zeros(3, 1, 4, 5))
    assert grid.shape == (3, 2, 4, 5)
    assert torch.equal(grid[0, 0, :, 0], torch.linspace(-1, 1, 4))
    assert torch.equal(grid[0, 1, 0, :], torch.linspace(-1, 1, 5))


def test_space_to_depth_round_trips():
    from sigdae.models.conv import depth_to_space, space_to_depth

    for x, r in ((torch.randn(2, 3, 12), 3), (torch.randn(2, 3, 12, 8), 2)):
        packed = space_to_depth(x, r)
        assert packed.shape[1] == 3 * r ** (x.dim() - 2)
        assert torch.equal(depth_to_space(packed, r), x)


def test_out_channels_differs_from_in_channels():
    model = conv(dim=2, in_channels=3, out_channels=1, channels=[4, 8])
    assert model(torch.rand(2, 3, 13, 11)).shape == (2, 1, 13, 11)


@pytest.mark.parametrize("size", [(64, 40), (63, 41), (9, 3)])
def test_per_level_strides_2d(size):
    model = conv(dim=2, channels=[4, 8, 8], stride=[[4, 1], [2, 2]])
    assert model.strides == [(4, 1), (2, 2)]
    assert model.multiple == (8, 2)
    x = torch.rand(2, 1, *size)
    y = model(x)
    assert y.shape == x.shape


def test_per_level_strides_change_the_resolution_of_each_level():
    model = conv(dim=2, channels=[4, 8, 8], stride=[[4, 1], [2, 2]], down="conv", skip="none").eval()
    sizes = []
    hooks = [enc.register_forward_hook(lambda m, i, o: sizes.append(tuple(o.shape[2:]))) for enc in model.encoders]
    model(torch.rand(1, 1, 64, 40))
    for h in hooks:
        h.remove()
    assert sizes == [(64, 40), (16, 40), (8, 20)]


def test_per_level_strides_1d():
    model = conv(dim=1, channels=[4, 8, 8], stride=[4, 2], down="conv")
    assert model.multiple == (8,)
    x = torch.randn(2, 1, 45)
    assert model(x).shape == x.shape


@pytest.mark.parametrize("skip", ["concat", "add", "none"])
@pytest.mark.parametrize("dim", [1, 2])
def test_skip_modes(skip, dim):
    model = conv(dim=dim, channels=[4, 8, 16], skip=skip)
    x = torch.rand(2, 1, *([21, 19] if dim == 2 else [53]))
    assert model(x).shape == x.shape
    first_decoder_conv = next(m for m in model.decoders[0].modules() if isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d)))
    assert first_decoder_conv.in_channels == (16 if skip == "concat" else 8)


def test_skip_modes_give_different_parameter_counts():
    counts = {skip: conv(channels=[4, 8, 16], skip=skip).num_parameters() for skip in ("concat", "add", "none")}
    assert counts["add"] == counts["none"] < counts["concat"]


def test_bottleneck():
    plain = conv(channels=[4, 8, 16])
    model = conv(channels=[4, 8, 16], bottleneck=3)
    assert isinstance(model.bottleneck, torch.nn.Sequential)
    convs = [m for m in model.bottleneck if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(16, 3), (3, 16)]
    assert model.num_parameters() == plain.num_parameters() + (16 * 3 + 3) + (3 * 16 + 16)
    x = torch.rand(2, 1, 17, 23)
    assert model(x).shape == x.shape
    x1 = torch.randn(2, 1, 50)
    assert conv(dim=1, channels=[4, 8], bottleneck=2)(x1).shape == x1.shape


def test_residual_identity_output():
    model = conv(dim=1, channels=[4, 8], residual=True, output_activation="identity")
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()
    x = torch.randn(2, 1, 30)
    assert torch.equal(model(x), x)


# ---- causality ----------------------------------------------------------------------------------

@pytest.mark.parametrize("skip", ["concat", "add", "none"])
@pytest.mark.parametrize("config", [
    dict(channels=[4, 8, 8], kernel=4, stride=2),
    dict(channels=[4, 8, 8], kernel=3, stride=[4, 2]),
    dict(channels=[6], kernel=5),
])
def test_causal_output_at_t_ignores_inputs_after_t(config, skip):
    model = conv(dim=1, causal=True, down="conv", norm="batch", act="leaky_relu", skip=skip,
                 output_activation="identity", **config)
    # a few training steps' worth of running statistics so that batch norm is not the identity
    with torch.no_grad():
        model.train()
        for _ in range(3):
            model(torch.randn(4, 1, 64))
    model.eval()
    g = torch.Generator().manual_seed(0)
    length = 43  # not a multiple of the total stride: the padding must be causal too
    x = torch.randn(2, 1, length, generator=g)
    y = model(x)
    for t in range(length - 1):
        x2 = x.clone()
        x2[..., t + 1:] += 5 * torch.randn(2, 1, length - t - 1, generator=g)
        y2 = model(x2)
        torch.testing.assert_close(y2[..., :t + 1], y[..., :t + 1], rtol=0, atol=0,
                                   msg=lambda m: f"output up to t={t} changed with inputs after t: {m}")
    # and the model does use the past (and, through a skip path, the present)
    x3 = x.clone()
    x3[..., 10] += 5
    change = (model(x3) - y).abs()
    assert change[..., :10].max() == 0
    assert change[..., 10:].max() > 0
    if skip != "none" or len(config["channels"]) == 1:
        assert change[..., 10].max() > 0


def test_causal_gradient_support():
    model = conv(dim=1, causal=True, down="conv", channels=[4, 8, 8], kernel=2, stride=[2, 2],
                 norm="none", act="leaky_relu", output_activation="identity")
    x = torch.randn(1, 1, 24, requires_grad=True)
    y = model(x)
    for t in (0, 5, 11, 22):
        (grad,) = torch.autograd.grad(y[0, 0, t], x, retain_graph=True)
        assert torch.count_nonzero(grad[0, 0, t + 1:]) == 0, f"output {t} depends on the future"
        assert grad[0, 0, t] != 0


def test_non_causal_model_does_see_the_future():
    model = conv(dim=1, channels=[4, 8], kernel=3, norm="none", act="leaky_relu", output_activation="identity")
    x = torch.randn(1, 1, 16, requires_grad=True)
    (grad,) = torch.autograd.grad(model(x)[0, 0, 5], x)
    assert torch.count_nonzero(grad[0, 0, 6:]) > 0


# ---- config errors ------------------------------------------------------------------------------

def one_line_model_error(match, **config):
    with pytest.raises(ModelError, match=match) as info:
        build_model("conv", **config)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_even_kernel_needs_causal():
    msg = one_line_model_error("kernel must be odd", kernel=4)
    assert "4" in msg
    one_line_model_error("kernel must be odd", kernel=0)
    # even kernels are fine when causal
    assert isinstance(build_model("conv", dim=1, kernel=4, causal=True, down="conv"), ConvAutoencoder)


@pytest.mark.parametrize("config, match", [
    (dict(dim=3), "dim must be 1 or 2"),
    (dict(channels=[]), "channels"),
    (dict(channels=[8, 0]), "channels"),
    (dict(blocks=0), "blocks"),
    (dict(blocks=[2, 2]), "one per level"),
    (dict(patch=0), "patch must be"),
    (dict(dim=1, causal=True, down="conv", coords=True), "coords"),
    (dict(dim=1, causal=True, down="conv", kernel=4, patch=2), "patch must be"),
    (dict(down="avg"), "down must be one of"),
    (dict(skip="sum"), "skip must be one of"),
    (dict(norm="layer"), "norm must be one of"),
    (dict(act="tanh"), "act must be one of"),
    (dict(output_activation="softmax"), "output activation"),
    (dict(causal=True), "causal needs dim=1"),                       # dim=2
    (dict(dim=1, causal=True, down="pool"), "causal needs"),
    (dict(dim=1, causal=True, down="conv", norm="group"), "causal needs"),
    (dict(residual=True), "residual=True needs"),
    (dict(context=-1), "context must be"),
    (dict(dim=1, causal=True, down="conv", context=2), "context must be"),
    (dict(unknown_option=1), "unknown option 'unknown_option'"),
])
def test_bad_configs_are_one_line_model_errors(config, match):
    one_line_model_error(match, **config)


@pytest.mark.parametrize("stride", [[2], [2, 2, 2], [[2, 2]]])
def test_stride_list_length_must_match_level_transitions(stride):
    msg = one_line_model_error("one entry per level transition", channels=[4, 8, 16], stride=stride)
    assert "(2)" in msg


@pytest.mark.parametrize("stride", [[[2, 2, 2], 2], [0, 2], [[2, 0], 2]])
def test_stride_entries_must_match_dim_and_be_positive(stride):
    one_line_model_error("must be a positive int or 2 positive ints", channels=[4, 8, 16], stride=stride)


def test_dim1_stride_pairs_are_rejected():
    one_line_model_error("1 positive ints", dim=1, channels=[4, 8], stride=[[2, 2]])


@pytest.mark.parametrize("dim, shape", [
    (2, (2, 28, 28)),          # missing channel axis
    (2, (1, 1, 1, 28, 28)),    # one axis too many
    (2, (2, 3, 28, 28)),       # wrong channel count
    (1, (2, 1, 4, 50)),        # image into a 1-D model
    (1, (50,)),
    (1, (2, 2, 50)),
])
def test_wrong_input_rank_or_channels(dim, shape):
    model = conv(dim=dim, channels=[4, 8])
    with pytest.raises(ModelError, match="conv: expects") as info:
        model(torch.rand(*shape))
    assert "\n" not in str(info.value)
    assert str(tuple(shape)) in str(info.value)


# ---- size -----------------------------------------------------------------------------------------

def test_default_conv_parameter_count():
    model = build_model("conv")
    assert model.config["channels"] == [16, 32, 64] and model.config["norm"] == "batch"
    assert model.num_parameters() == 117_073
    assert sum(p.numel() for p in model.parameters()) == 117_073


def test_config_round_trips_through_build_model():
    model = conv(dim=2, channels=[4, 8, 8], stride=[[4, 1], [2, 2]], bottleneck=4, skip="add")
    again = build_model("conv", **model.config)
    again.load_state_dict(model.state_dict())
    x = torch.rand(1, 1, 20, 12)
    model.eval()
    again.eval()
    assert torch.equal(model(x), again(x))


def test_causal_wave_unet_built_on_conv_is_causal():
    torch.manual_seed(0)
    model = build_model("wave_unet", causal=True, channels=[4, 8, 8], stride=4).eval()
    x = torch.randn(1, 1, 333, requires_grad=True)
    y = model(x)
    assert y.shape == x.shape
    for t in (0, 100, 250):
        (grad,) = torch.autograd.grad(y[0, 0, t], x, retain_graph=True)
        assert torch.count_nonzero(grad[0, 0, t + 1:]) == 0, f"output {t} depends on the future"


@pytest.mark.parametrize("name", ["conv", "spectral_mask", "wave_unet", "dense"])
def test_inference_rewrites_keep_the_output(name):
    """Folded batch norms and in-place ReLUs (what load_model does) change neither the output nor the input."""
    import copy

    from sigdae.models import build_model
    from sigdae.models.base import fuse_batchnorm, relu_in_place

    torch.manual_seed(0)
    model = build_model(name, **{"spectral_mask": {"context": 2}, "wave_unet": {"act": "relu"}}.get(name, {}))
    x = torch.rand(3, 1, 28, 28) if name in ("conv", "dense") else torch.randn(3, 1, 4000) * 0.1
    model.train()
    with torch.no_grad():
        model(x)  # non-trivial running statistics
    model.eval()
    fused = fuse_batchnorm(copy.deepcopy(model))
    assert not any(isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)) for m in fused.modules())
    in_place = relu_in_place(copy.deepcopy(fused))
    relus = [m for m in in_place.modules() if isinstance(m, torch.nn.ReLU)]
    assert relus and all(m.inplace for m in relus)  # every ReLU here follows a conv or linear layer
    given = x.clone()
    with torch.no_grad():
        expected = model(x)
        assert torch.allclose(expected, fused(x), atol=1e-5)
        assert torch.equal(in_place(x), fused(x))
    assert torch.equal(x, given)


def test_attention_bottleneck_sees_the_whole_input():
    torch.manual_seed(0)
    y = torch.rand(1, 1, 31, 17)
    assert build_model("conv", attention=4)(y).shape == y.shape

    def corner_to_corner(model):  # does the far corner of the output depend on the first input pixel?
        x = torch.rand(1, 1, 28, 28, requires_grad=True)
        model.eval()(x)[..., -1, -1].sum().backward()
        return float(x.grad[..., 0, 0].abs())

    assert corner_to_corner(build_model("conv", attention=4, norm="none")) > 0
    assert corner_to_corner(build_model("conv", norm="none")) == 0  # 3x3 convs alone do not reach that far
    with pytest.raises(ModelError, match="attention"):
        build_model("conv", attention=5)


def test_spectral_mask_gain_is_bounded():
    from sigdae.models import build_model

    model = build_model("spectral_mask", mask_min=0.3, mask_max=1.2).eval()
    spec = torch.stft(torch.randn(2, 8000), 512, 256, window=torch.hann_window(512), return_complex=True)
    gain = model.mask(spec).detach()
    assert gain.shape == spec.shape and float(gain.min()) >= 0.3 and float(gain.max()) <= 1.2
    with pytest.raises(ModelError, match="mask_min"):
        build_model("spectral_mask", mask_min=1.0)


def test_attention_equals_torch_multihead_attention():
    from sigdae.models.conv import GlobalAttention

    torch.manual_seed(0)
    block = GlobalAttention(16, 4)
    x = torch.randn(3, 16, 5, 7)
    tokens = x.flatten(2).transpose(1, 2)
    q = block.norm(tokens)
    reference = (tokens + block.attn(q, q, q, need_weights=False)[0]).transpose(1, 2).reshape(x.shape)
    torch.testing.assert_close(block(x), reference, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("dim, shape", [(1, (2, 1, 1001)), (2, (2, 1, 31, 45))])
def test_context_keeps_shapes_starts_as_identity_and_widens_the_reach_along_time(dim, shape):
    torch.manual_seed(0)
    plain = build_model("conv", dim=dim, channels=[4, 8, 8], norm="none").eval()
    wide = build_model("conv", dim=dim, channels=[4, 8, 8], norm="none", context=3).eval()
    missing = wide.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert missing and all(k.startswith("context.") for k in missing)
    x = torch.rand(*shape)
    with torch.no_grad():
        assert torch.allclose(wide(x), plain(x), atol=1e-6)
    assert wide.context_reach == 7 and plain.context_reach == 0  # kernel 3, dilations 1, 2, 4

    def far_reach(model):  # does the last output step depend on the input 40 steps before it?
        x = torch.rand(*shape, requires_grad=True)
        model(x)[..., -1].sum().backward()
        return float(x.grad[..., -41].abs().sum())

    for block in wide.context.blocks:
        torch.nn.init.normal_(block[-1].weight, std=0.1)
    assert far_reach(plain) == 0 and far_reach(wide) > 0


@pytest.mark.parametrize("name", ["spectral_mask", "wave_unet"])
def test_receptive_samples_bounds_the_reach_of_a_model_with_context(name):
    torch.manual_seed(0)
    plain = build_model(name, norm="none").eval()
    wide = build_model(name, norm="none", context=3).eval()
    for block in wide.net.context.blocks:
        torch.nn.init.normal_(block[-1].weight, std=0.5)
    assert wide.receptive_samples > plain.receptive_samples
    length = 4 * wide.receptive_samples
    distance = (torch.arange(length) - length // 2).abs()

    def reach(model):  # |d output[middle] / d input| at every input sample
        x = torch.randn(1, 1, length, dtype=torch.float64, requires_grad=True)
        model.double()(x)[..., length // 2].sum().backward()
        return x.grad.abs().flatten()

    assert reach(plain)[distance > plain.receptive_samples].max() == 0  # each bound holds ...
    assert reach(wide)[distance > wide.receptive_samples].max() == 0
    assert reach(wide)[distance > plain.receptive_samples].max() > 0  # ... and the context reaches further
