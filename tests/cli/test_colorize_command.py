"""`tintype colorize`: bad arguments give a clear message and exit code 2, before any flow runs."""

from __future__ import annotations

from cli.main import main


def test_missing_model_and_input_are_clear_errors(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    assert main(["colorize", str(tmp_path / "in"), str(tmp_path / "out"), "--model", str(tmp_path / "nope")]) == 2
    assert "no model bundle" in capsys.readouterr().err
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "version.txt").write_text("v\n")
    assert main(["colorize", str(tmp_path / "missing"), str(tmp_path / "out"), "--model", str(bundle)]) == 2
    assert "input not found" in capsys.readouterr().err
    assert main(["colorize", str(tmp_path / "in"), str(tmp_path / "out"), "--model", str(bundle), "--every", "60"]) == 2
    assert "--every needs --inbox" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
