"""The command line ``skexplain reproduce ...`` (``python -m skexplain``)."""

import csv
import importlib.util
import subprocess
import sys

import pytest

from skexplain import __version__
from skexplain._cli import build_parser, main
from skexplain.reproduction import RELEX_ATTACK_COLUMNS, TRADEOFF_COLUMNS


def _csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--out", "--n-jobs", "--seed", "--quick", "--no-progress", "--dims",
                   "--eta-frac", "--faithfulness", "--solver"):
        assert option in out
    for experiment in ("agreement", "equivalence", "tradeoff", "relex", "all"):
        assert experiment in out
    # every option has a help text
    rep = build_parser()._subparsers._group_actions[0].choices["reproduce"]
    assert all(a.help for a in rep._actions)


def test_version_and_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "skexplain", "--version"], check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == f"skexplain {__version__}"


@pytest.mark.parametrize("argv, message", [
    (["reproduce", "nope"], "invalid choice"),
    (["--eta-frac", "1.5"], "must lie in (0, 1)"),
    (["--n-jobs", "0"], "not 0"),
    (["--dims", "7"], "invalid choice"),
    (["--solver", "gurobi"], "invalid choice"),
    (["--seed", "x"], "invalid int"),
])
def test_bad_arguments_exit_2_naming_the_option(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_default_command_is_agreement_and_writes_tables(tmp_path, capsys):
    # no sub-command: "reproduce agreement"; --quick: D = 2 only
    assert main(["--quick", "--no-progress", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "## agreement" in out and "| D | function | u |" in out
    rows = _csv(tmp_path / "agreement.csv")
    # D = 2 grid: 5 functions, valid radii {2, 3, 5, 10} each
    assert len(rows) == 20 and {r["D"] for r in rows} == {"2"}
    assert all(0.0 <= float(r["rate"]) <= float(r["rate_tolerant"]) <= 1.0 for r in rows)
    md = (tmp_path / "agreement.md").read_text().splitlines()
    assert len(md) == 2 + 20 and md[0].startswith("| D | function | u |")
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "agreement.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_tables_whatever_n_jobs(tmp_path, capsys):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert main(["reproduce", "tradeoff", "--quick", "--no-progress", "--out", str(a)]) == 0
    assert main(["reproduce", "tradeoff", "--quick", "--no-progress", "--n-jobs", "2",
                 "--out", str(b)]) == 0
    assert main(["reproduce", "tradeoff", "--quick", "--no-progress", "--seed", "1",
                 "--out", str(c)]) == 0
    capsys.readouterr()
    ta, tb, tc = (p.joinpath("tradeoff.csv").read_text() for p in (a, b, c))
    assert ta == tb                              # bit-identical with two workers
    assert ta != tc                              # the seed reaches SmoothGrad's noise
    rows = _csv(a / "tradeoff.csv")
    assert list(rows[0]) == [k for k, _, _ in TRADEOFF_COLUMNS]
    assert {r["setting"] for r in rows} == {"staircase", "breast_cancer"}
    # the staircase's attribution is a list; the MLP rows have none (empty field)
    assert all((r["attribution"] == "") == (r["setting"] == "breast_cancer") for r in rows)


def test_relex_quick_two_tables(tmp_path, capsys):
    assert main(["reproduce", "relex", "--quick", "--no-progress", "--out",
                 str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| 0.3 | RelEx |" in out and "preservation" in out
    rows = _csv(tmp_path / "relex_attack.csv")
    assert list(rows[0]) == [k for k, _, _ in RELEX_ATTACK_COLUMNS]
    assert {float(r["eps"]) for r in rows} == {0.1, 0.3}
    assert (tmp_path / "relex_clean.md").exists()


def test_figures_skipped_with_a_message_without_matplotlib(tmp_path, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    assert main(["reproduce", "tradeoff", "--quick", "--no-progress", "--out",
                 str(tmp_path)]) == 0
    assert "pip install 'skexplain[plot]'" in capsys.readouterr().out
    assert (tmp_path / "tradeoff.csv").exists() and not (tmp_path / "tradeoff.png").exists()


def test_library_errors_become_a_clean_exit(monkeypatch, capsys):
    import skexplain._cli as cli

    def boom(args, verbose):
        raise ValueError("eta_frac is infeasible")

    monkeypatch.setitem(cli.RUNNERS, "tradeoff", boom)
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "tradeoff"])
    assert exc.value.code == 2
    assert "skexplain: error: eta_frac is infeasible" in capsys.readouterr().err


@pytest.mark.parametrize("out, message", [("", "--out is empty"),
                                          ("FILE", "is a file, not a directory"),
                                          ("FILE/sub", "cannot be created")])
def test_out_is_checked_before_any_computation(out, message, tmp_path, capsys, monkeypatch):
    from skexplain import _cli

    (tmp_path / "FILE").write_text("x")
    out = out.replace("FILE", str(tmp_path / "FILE"))
    ran = []
    monkeypatch.setitem(_cli.RUNNERS, "agreement", lambda *a: ran.append(1))
    with pytest.raises(SystemExit) as exc:
        _cli.main(["reproduce", "agreement", "--out", out])
    assert exc.value.code == 2 and not ran
    assert message in capsys.readouterr().err


def test_ctrl_c_exits_130_without_a_traceback(monkeypatch, capsys):
    from skexplain import _cli

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setitem(_cli.RUNNERS, "agreement", interrupted)
    assert _cli.main(["reproduce", "agreement"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err
