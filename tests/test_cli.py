import pytest

from lightnets.cli import main


def test_models_lists_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "mobilenet_v2*"]) == 0
    out = capsys.readouterr().out
    assert "| mobilenet_v2_100 |" in out
    assert "3,504,872" in out  # computed from the built network, equal to torchvision's
    assert "MobileNetV2" in out


def test_models_with_no_match_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "nothing*"]) == 1
    assert "no registered model matches" in capsys.readouterr().err
