"""User errors on the command line: one line naming the problem, exit status 2."""

from __future__ import annotations

import pytest
import torch

from gangames.cli import main

FLAGS = ["--game", "gangames/DiracGAN-v0", "--agent", "gda", "--budget", "5"]


def one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_out_that_is_a_file(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    for out in (tmp_path / "f", tmp_path / "f" / "sub"):
        err = one_line_error(capsys, ["tournament", *FLAGS, "--out", str(out)])
        assert "--out must be a folder" in err and "is a file" in err
    err = one_line_error(capsys, ["report", str(tmp_path / "f")])
    assert "--out must be a folder" in err


def test_a_corrupt_store(tmp_path, capsys):
    (tmp_path / "results.sqlite").write_bytes(b"not a database" * 100)
    err = one_line_error(capsys, ["report", str(tmp_path)])
    assert "not a gangames results store" in err
    argv = ["tournament", *FLAGS, "--out", str(tmp_path), "--resume"]
    assert "not a gangames results store" in one_line_error(capsys, argv)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["play", "gangames/DiracGAN-v0", "gda", "--lines", "0"], "--lines must be"),
        (["tournament", *FLAGS, "--workers", "0"], "--workers must be an int > 0"),
        (["tournament", *FLAGS, "--workers", "-3"], "--workers must be an int > 0"),
        (["tournament", *FLAGS, "--timeout", "1e300"], "timeout must be"),
        (["tournament", *FLAGS, "--batch", str(10**12)], "batch must be"),
        (["play", "gangames/Quadratic-v0", "gda", "--option", "mu=Infinity"], "mu"),
    ],
)
def test_bad_numbers(tmp_path, capsys, argv, message):
    if argv[0] == "tournament":
        argv = [*argv, "--out", str(tmp_path / "o")]
    assert message in one_line_error(capsys, argv)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda(tmp_path, capsys):
    err = one_line_error(
        capsys, ["play", "gangames/DiracGAN-v0", "gda", "--device", "cuda"]
    )
    assert "device must be" in err and "CUDA is not available" in err
    data = tmp_path / "c.toml"
    data.write_text(
        'device = "cuda:9"\n[[games]]\nid = "gangames/DiracGAN-v0"\n'
        '[[entrants]]\nagent = "gda"\n'
    )
    err = one_line_error(capsys, ["tournament", str(data), "--out", str(tmp_path)])
    assert "'cuda:9'" in err
    assert not (tmp_path / "results.sqlite").exists()  # refused before any match
