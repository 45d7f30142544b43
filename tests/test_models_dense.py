import json
import math

import pytest
import torch

torch.set_num_threads(1)

from sigdae.models import MODELS, ModelError, build_model  # noqa: E402
from sigdae.models.dense import ContractiveAE, DenseAE, SparseAE  # noqa: E402
from sigdae.models.stacked import StackedDAE, pretrain_layerwise  # noqa: E402
from sigdae.models.vae import VAE, kl_to_standard_normal  # noqa: E402

DENSE_FAMILY = ["dense", "undercomplete", "sparse", "contractive", "vae", "stacked"]


@pytest.mark.parametrize("name", DENSE_FAMILY)
@pytest.mark.parametrize("shape", [(3, 784), (3, 1, 28, 28), (3, 4, 196)])
def test_output_has_input_shape(name, shape):
    torch.manual_seed(0)
    model = build_model(name)
    x = torch.rand(shape)
    model.train()
    assert model(x).shape == x.shape
    assert model.forward_raw(x).shape == x.shape
    assert model.denoise(x).shape == x.shape
    assert MODELS.get(name).signal == "any"


@pytest.mark.parametrize("name", DENSE_FAMILY)
def test_config_is_json_safe_and_rebuilds(name):
    model = build_model(name, in_features=20)
    config = json.loads(json.dumps(model.config))
    rebuilt = build_model(name, **config)
    assert rebuilt.config == model.config
    assert rebuilt.num_parameters() == model.num_parameters()
    rebuilt.load_state_dict(model.state_dict())


def test_wrong_input_size_names_both_sizes():
    model = build_model("dense")
    with pytest.raises(ModelError, match=r"100.*784"):
        model(torch.rand(2, 1, 10, 10))


def test_build_model_unknown_option_is_one_line_model_error():
    with pytest.raises(ModelError) as info:
        build_model("dense", hiden=[3])
    message = str(info.value)
    assert "dense" in message and "hiden" in message and "\n" not in message


def test_bad_config_values_are_model_errors():
    with pytest.raises(ModelError, match="hidden"):
        build_model("dense", hidden=[])
    with pytest.raises(ModelError, match="activation"):
        build_model("dense", activation="swishy")
    with pytest.raises(ModelError, match="code_activation"):
        build_model("sparse", sparsity="kl", code_activation="relu")


def test_seed_dense_dae_parameter_count_and_keras_init():
    model = build_model("dense")
    assert model.num_parameters() == 222_384
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (784, 128), (128, 64), (64, 32), (32, 64), (64, 128), (128, 784)]
    for layer in linears:
        bound = math.sqrt(6 / (layer.in_features + layer.out_features))
        assert layer.weight.abs().max() <= bound
        assert layer.weight.abs().max() > 0.8 * bound
        assert torch.count_nonzero(layer.bias) == 0
    out = model(torch.rand(4, 784))
    assert out.min() >= 0 and out.max() <= 1  # sigmoid output


def test_undercomplete_is_a_single_bottleneck():
    model = build_model("undercomplete", in_features=100, code=7)
    assert model.config["code"] == 7
    assert model.encode(torch.rand(2, 100)).shape == (2, 7)
    assert model.num_parameters() == 100 * 7 + 7 + 7 * 100 + 100


def test_sparse_kl_penalty_matches_formula_and_trains_encoder_only():
    torch.manual_seed(0)
    model = SparseAE(in_features=12, hidden=[6], rho=0.1)
    x = torch.rand(5, 12)
    model(x)
    penalty = model.penalties()["sparsity"]
    enc = model.encoder[0]
    rho_hat = torch.sigmoid(x @ enc.weight.T + enc.bias).mean(0)
    expected = (0.1 * torch.log(0.1 / rho_hat) + 0.9 * torch.log(0.9 / (1 - rho_hat))).sum()
    assert torch.allclose(penalty, expected, atol=1e-6)
    penalty.backward()
    assert enc.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.decoder.parameters())


def test_sparse_kl_penalty_is_zero_with_zero_gradient_at_target_rate():
    model = SparseAE(in_features=8, hidden=[4], rho=0.2)
    enc = model.encoder[0]
    with torch.no_grad():
        enc.weight.zero_()
        enc.bias.fill_(math.log(0.2 / 0.8))  # sigmoid(bias) = rho
    model(torch.rand(3, 8))
    penalty = model.penalties()["sparsity"]
    penalty.backward()
    assert abs(penalty.item()) < 1e-6
    assert enc.bias.grad.abs().max() < 1e-5


def test_sparse_l1_penalty_is_mean_absolute_code():
    torch.manual_seed(1)
    model = SparseAE(in_features=10, hidden=[8, 4], sparsity="l1", code_activation="relu")
    x = torch.rand(6, 10)
    model(x)
    assert torch.allclose(model.penalties()["sparsity"], model.encode(x).abs().mean())


def _autograd_contraction(model: ContractiveAE, x: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    total = 0.0
    for sample in x:
        jac = torch.autograd.functional.jacobian(lambda v: model.encode(v.unsqueeze(0))[0], sample,
                                                 create_graph=create_graph)
        total = total + jac.pow(2).sum()
    return total / x.shape[0]


@pytest.mark.parametrize("hidden", [[3], [4, 3]])
def test_contractive_penalty_equals_autograd_jacobian(hidden):
    torch.manual_seed(2)
    model = ContractiveAE(in_features=5, hidden=hidden)
    x = torch.rand(4, 5)
    model(x)
    analytic = model.penalties()["contractive"]
    reference = _autograd_contraction(model, x, create_graph=True)
    assert torch.allclose(analytic, reference, rtol=1e-5, atol=1e-7)
    # and their gradients with respect to the encoder weights agree too
    params = list(model.encoder.parameters())
    grads = torch.autograd.grad(analytic, params)
    ref_grads = torch.autograd.grad(reference, params)
    for g, r in zip(grads, ref_grads):
        assert torch.allclose(g, r, rtol=1e-4, atol=1e-7)


def test_contractive_one_layer_closed_form():
    torch.manual_seed(3)
    model = ContractiveAE(in_features=6, hidden=[2])
    x = torch.rand(3, 6)
    model(x)
    w, b = model.encoder[0].weight, model.encoder[0].bias
    h = torch.sigmoid(x @ w.T + b)
    expected = ((h * (1 - h)) ** 2 * w.pow(2).sum(1)).sum(1).mean()
    assert torch.allclose(model.penalties()["contractive"], expected)


def test_vae_kl_is_zero_for_standard_normal_posterior():
    assert kl_to_standard_normal(torch.zeros(4, 3), torch.zeros(4, 3)).item() == 0.0
    # N(1, 1) in 3 dimensions: 0.5 * mu^2 per dimension
    assert math.isclose(kl_to_standard_normal(torch.ones(2, 3), torch.zeros(2, 3)).item(), 1.5)
    # N(0, e) in 1 dimension: 0.5 * (e - 1 - 1)
    assert math.isclose(kl_to_standard_normal(torch.zeros(1, 1), torch.ones(1, 1)).item(), 0.5 * (math.e - 2),
                        rel_tol=1e-6)
    model = VAE(in_features=10, hidden=[8], latent=3)
    with torch.no_grad():
        for head in (model.to_mu, model.to_logvar):
            head.weight.zero_()
            head.bias.zero_()
    model(torch.rand(5, 10))
    assert model.penalties()["kl"].abs().item() < 1e-7


def test_vae_eval_uses_mean_train_samples_and_kl_has_gradient():
    torch.manual_seed(4)
    model = VAE(in_features=10, hidden=[8], latent=3)
    x = torch.rand(5, 10)
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()
    assert not torch.equal(model(x), model(x))
    kl = model.penalties()["kl"]
    assert kl.item() > 0
    kl.backward()
    assert model.to_mu.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.decoder.parameters())


def test_vae_sample_decodes_from_prior():
    model = VAE(in_features=12, hidden=[8], latent=2)
    g = torch.Generator().manual_seed(0)
    flat = model.sample(4, generator=g)
    assert flat.shape == (4, 12) and flat.min() >= 0 and flat.max() <= 1
    assert model.sample(2, shape=(1, 3, 4)).shape == (2, 1, 3, 4)
    g.manual_seed(0)
    assert torch.equal(model.sample(4, generator=g), flat)


def _prototype_data(n: int = 192, d: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    prototypes = (torch.rand(4, d, generator=g) > 0.5).float()
    picks = torch.randint(0, 4, (n,), generator=g)
    return (prototypes[picks] * 0.8 + 0.1 + 0.05 * torch.rand(n, d, generator=g)).reshape(n, 1, d)


def _masking(fraction: float):
    def corrupt(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        keep = torch.rand(x.shape, generator=generator) >= fraction
        return x * keep
    return corrupt


def test_stacked_pretraining_reduces_reconstruction_error():
    torch.manual_seed(5)
    data = _prototype_data()
    model = StackedDAE(in_features=32, hidden=[16, 8])
    with torch.no_grad():
        before = torch.mean((model(data) - data) ** 2).item()
    history = pretrain_layerwise(model, data, _masking(0.2), epochs_per_layer=25, batch_size=32, lr=1e-2,
                                 generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        after = torch.mean((model(data) - data) ** 2).item()
    assert len(history) == 2 and all(len(h) == 25 for h in history)
    assert all(h[-1] < h[0] for h in history)
    assert after < 0.5 * before
    # ready for end-to-end fine-tuning: training mode, everything trainable, gradients reach layer 0
    assert model.training and all(p.requires_grad for p in model.parameters())
    loss = torch.mean((model(_masking(0.2)(data, None)) - data) ** 2)
    loss.backward()
    assert model.encoders[0].weight.grad.abs().sum() > 0


def test_stacked_pretraining_rejects_wrong_size():
    model = StackedDAE(in_features=32, hidden=[8])
    with pytest.raises(ModelError, match="in_features=32"):
        pretrain_layerwise(model, torch.rand(4, 30), _masking(0.1), epochs_per_layer=1, batch_size=2, lr=1e-3,
                           generator=None)


def test_dense_dropout_only_acts_in_training():
    model = DenseAE(in_features=20, hidden=[16, 8], dropout=0.5)
    x = torch.rand(4, 20)
    model.eval()
    assert torch.equal(model(x), model(x))
