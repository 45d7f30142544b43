"""The experiments at the test size (the quick size, smaller still): their outputs exist and say what the
theory says they should."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sigdae.experiments import EXPERIMENTS, run_experiment, summaries


def _run(name, tmp_path):
    results = run_experiment(name, tmp_path / name, "test")
    out = tmp_path / name
    assert json.loads((out / "results.json").read_text()) == json.loads(json.dumps(results))
    report = (out / "report.md").read_text()
    assert report.startswith(f"# Experiment: {name}") and f"sigdae experiment {name}" in report
    assert results["figures"]
    for figure in results["figures"]:
        data = (out / figure).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 150_000
        assert f"]({figure})" in report
    return results


def test_every_experiment_has_a_module_and_a_summary():
    assert set(summaries()) == set(EXPERIMENTS)
    assert all(summaries().values())


def test_noise_sweep_each_model_is_best_at_its_own_training_level(tmp_path):
    results = _run("noise-sweep", tmp_path)
    psnr = np.array(results["psnr"])
    assert psnr.shape == (len(results["train_levels"]), len(results["test_levels"]))
    for row, level in enumerate(results["train_levels"]):
        column = results["test_levels"].index(level)
        assert psnr[:, column].argmax() == row, f"at test level {level}"
    # every model beats the noisy input under heavy noise
    assert (psnr[:, -1] > results["noisy_psnr"][-1]).all()


def test_noise_types_specialists_win_on_their_own_noise_and_the_mix_generalises(tmp_path):
    results = _run("noise-types", tmp_path)
    psnr = np.array(results["psnr"])
    singles = len(results["test"])
    for j in range(singles):  # each specialist is above the other specialists' average on its own noise
        others = np.delete(psnr[:singles, j], j)
        assert psnr[j, j] > others.mean(), results["test"][j]
    worst = results["worst_shortfall"]
    assert results["generalises_best"] == "mix" and worst[-1] == min(worst)


def test_light_vs_heavy(tmp_path):
    results = _run("light-vs-heavy", tmp_path)
    light, heavy, ranged = (np.array(v) for v in results["psnr"].values())
    levels = results["test_levels"]
    assert light[levels.index(0.1)] > heavy[levels.index(0.1)]
    assert heavy[levels.index(0.9)] > light[levels.index(0.9)]
    shortfall = list(results["worst_shortfall"].values())
    assert shortfall[2] == min(shortfall)


def test_anomaly_separates_the_held_out_digits(tmp_path):
    results = _run("anomaly", tmp_path)
    assert sorted(results["auc"]) == [str(d) for d in results["held_out"]]
    assert results["mean_auc"] > 0.6 and all(v > 0.5 for v in results["auc"].values())


def test_pca_and_the_linear_autoencoder_span_the_same_subspace(tmp_path):
    results = _run("pca", tmp_path)
    assert abs(results["mse_ratio"] - 1) < 0.05
    assert results["mean_angle_deg"] < 10 and np.median(results["principal_angles_deg"]) < 5


def test_features_sparse_filters_and_2d_codes_that_separate_digits(tmp_path):
    results = _run("features", tmp_path)
    assert results["filters"] == 100
    assert results["sparse_mean_activation"] < 0.3
    assert results["code_2d_knn_accuracy"] > 0.25  # chance is 0.1


def test_vae_samples_look_like_the_data(tmp_path):
    results = _run("vae-samples", tmp_path)
    assert 0 <= results["samples_min"] and results["samples_max"] <= 1
    assert results["sample_pixel_std"] > 0.05           # the samples differ from each other
    assert results["mean_image_correlation"] > 0.8      # ... and look like digits on average
    assert results["walk_endpoints_match"] >= results["walks"] - 1
    assert results["active_units"] >= 2


def test_unknown_experiment_and_size_are_usage_errors(tmp_path):
    from sigdae.errors import UsageError

    with pytest.raises(UsageError, match="unknown experiment"):
        run_experiment("nope", tmp_path)
    with pytest.raises(UsageError, match="unknown experiment size"):
        run_experiment("pca", tmp_path, "huge")


def test_cli_lists_and_runs_an_experiment(tmp_path, monkeypatch, capsys):
    from sigdae.cli.program import main
    from sigdae.experiments import common

    assert main(["experiment", "list"]) == 0
    assert [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()] == list(EXPERIMENTS)
    monkeypatch.setitem(common.SIZES, "quick", common.SIZES["test"])
    assert main(["experiment", "pca", "--quick", "--out", str(tmp_path / "pca")]) == 0
    assert capsys.readouterr().out.startswith(str(tmp_path / "pca" / "report.md"))
    assert "sigdae experiment pca --quick" in (tmp_path / "pca" / "report.md").read_text()
    assert main(["experiment", "nope"]) == 2
