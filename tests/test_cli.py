"""The command layer (`vetgraph.cli`): every command reports an error as one line `vetgraph COMMAND: ...`
with pySHACL's exit codes (1: the input was read and does not conform; 2: it cannot be read, or an option
is wrong), never a traceback unless --debug asks for it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.progress import without_progress
from tests.helpers.project import data_with_curation
from vetgraph.cli import main
from vetgraph.config import Paths

BAD_ROW = 'lighthouse-projects.csv:3: column country: "GER" is not an EU country code (did you mean DEU?)'


@pytest.fixture
def bad_row(tmp_path: Path, vocab_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project with one spreadsheet row whose country code is unknown (GER)."""
    monkeypatch.setenv("VETGRAPH_DATA", str(data_with_curation(tmp_path, "wrong-country")))
    monkeypatch.setenv("VETGRAPH_VOCAB", str(vocab_dir))
    return tmp_path


#: every command that loads the project's data, with the arguments it needs to get that far
COMMANDS = {
    "validate": ["validate"],
    "stats": ["stats"],
    "links": ["links"],
    "query": ["query", "insights"],
    "diff": ["diff", "{dump}"],
    "build": ["build", "--out", "{tmp}/release", "--quiet"],
    "serve": ["serve", "--port", "0"],
    "publish": ["publish", "--endpoint", "http://127.0.0.1:9/store"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_one_bad_spreadsheet_row_gives_exit_1_in_every_command(command, bad_row, capsys):
    """The row was read and does not conform: exit 1, as a SHACL violation, in every command."""
    dump = bad_row / "old.nq"
    dump.write_text("", encoding="utf-8")
    args = [a.format(tmp=bad_row, dump=dump) for a in COMMANDS[command]]
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert f"vetgraph {command}: {BAD_ROW}" in err
    assert "Traceback" not in err and out == ""
    assert not (bad_row / "release").exists()


def test_a_spreadsheet_that_cannot_be_read_gives_exit_2(bad_row, capsys):
    table = Path(Paths().data_dir) / "curation" / "lighthouse-projects.csv"
    table.write_bytes(table.read_bytes().replace(b"Alpha", b"Alpha \xff"))  # not UTF-8
    assert main(["stats"]) == 2
    err = capsys.readouterr().err
    assert err == "vetgraph stats: lighthouse-projects.csv: is not UTF-8 text (save it as \"CSV UTF-8\")\n"


def test_debug_shows_the_traceback_that_is_hidden_otherwise(bad_row, capsys):
    assert main(["stats"]) == 1
    assert "Traceback" not in capsys.readouterr().err
    assert main(["stats", "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "CurationError" in err
    assert err.rstrip().endswith(f"vetgraph stats: {BAD_ROW}")
    assert main(["--debug", "stats"]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_query_and_serve_take_the_same_authentication_options_as_publish():
    import argparse
    import importlib

    def options(module: str) -> set[str]:
        parser = argparse.ArgumentParser()
        importlib.import_module(module).add_arguments(parser)
        group = next(g for g in parser._action_groups if g.title and g.title.startswith("authentication"))
        return {o for action in group._group_actions for o in action.option_strings}

    expected = {"--user", "--password", "--auth-env", "--token-env"}
    assert options("vetgraph.remote") == options("vetgraph.queries") == options("vetgraph.server") == expected


def test_serve_store_passes_the_credentials_on(monkeypatch):
    import argparse

    from vetgraph.remote.http import Credentials
    from vetgraph.server import _remote

    monkeypatch.setenv("STORE_AUTH", "alice:secret")
    args = argparse.Namespace(store="http://127.0.0.1:9/sparql", timeout=5.0, user=None, password=None,
                              auth_env="STORE_AUTH", token_env=None)
    store, _, _, ontology = _remote(args, Paths())
    assert ontology is not None
    assert store.http.credentials == Credentials("alice", "secret")


# --- bad input through the real command line: one line naming the file, line or option; exit 2 -----------


def _vetgraph(*args: str | bytes, data: Path | None = None, cwd: Path | None = None):
    """`python -m vetgraph ARGS` in a process of its own, as a user runs it."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    if data is not None:
        env["VETGRAPH_DATA"] = str(data)
    return subprocess.run([sys.executable, "-m", "vetgraph", *args], capture_output=True, env=env, cwd=cwd,
                          timeout=600)


def _one_line(result, command: str, *words: str) -> str:
    """The run exited 2 with exactly one line on stderr, `vetgraph COMMAND: ...`, holding `words`."""
    err = without_progress(result.stderr.decode("utf-8", "replace"))
    assert result.returncode == 2, err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith(f"vetgraph {command}: "), err
    for word in words:
        assert word in err, err
    return err


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(Paths().data_dir, data)
    return data


@pytest.mark.parametrize("command", [["validate"], ["stats"], ["query", "insights"], ["build", "--quiet"]],
                         ids=lambda c: c[0])
def test_invalid_utf8_in_a_trig_comment_names_file_line_and_column(command, data_copy, tmp_path):
    report = data_copy / "report.trig"
    report.write_bytes(b"# caf\xe9: a comment in Latin-1\n" + report.read_bytes())
    if command[0] == "build":
        command = [*command, "--out", str(tmp_path / "release")]
    _one_line(_vetgraph(*command, data=data_copy), command[0], f"{report}:1:6: byte 0xE9 is not UTF-8")
    assert not (tmp_path / "release").exists()


def test_a_byte_order_mark_in_a_trig_file_is_read_like_the_same_file_without_it(data_copy):
    before = _vetgraph("stats", "--format", "json", data=data_copy)
    report = data_copy / "report.trig"
    report.write_bytes(b"\xef\xbb\xbf" + report.read_bytes())
    after = _vetgraph("stats", "--format", "json", data=data_copy)
    assert (after.returncode, after.stderr) == (0, b"")
    assert after.stdout == before.stdout


def test_a_ten_megabyte_literal_stops_build_with_its_file(data_copy, tmp_path):
    big = data_copy / "big.ttl"
    big.write_text("<https://w3id.org/vetgraph/id/report/innovation-digitalisation-2020> "
                   f"<http://www.w3.org/2000/01/rdf-schema#comment> \"{'x' * 10_000_000}\"@en .\n")
    result = _vetgraph("build", "--quiet", "--out", str(tmp_path / "release"), data=data_copy)
    _one_line(result, "build", f"{big}: a literal of 10,000,000 characters")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no release, no temporary folder


def test_an_integer_parameter_of_5000_digits():
    _one_line(_vetgraph("query", "insight", "--param", "number=" + "9" * 5000), "query",
              "parameter 'number': an integer of 5000 digits is too long")


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_a_timeout_that_is_not_a_number_of_seconds(value):
    _one_line(_vetgraph("query", "insights", "--timeout", value), "query", "--timeout", repr(value))


def test_a_validation_cache_that_is_a_file():
    _one_line(_vetgraph("validate", "--cache", "/etc/hosts"), "validate", "--cache", "/etc/hosts",
              "is not a folder")


def test_release_settings_that_are_not_text(tmp_path):
    _one_line(_vetgraph("build", "--release", "/bin/ls", "--out", str(tmp_path / "release")), "build",
              "--release /bin/ls: not a release settings file")
    assert list(tmp_path.iterdir()) == []


def test_a_base_url_that_is_not_a_url(tmp_path):
    _one_line(_vetgraph("build", "--base-url", "not a url", "--out", str(tmp_path / "release")), "build",
              "--base-url", "'not a url'")
    assert list(tmp_path.iterdir()) == []


def test_a_port_out_of_range():
    _one_line(_vetgraph("serve", "--port", "99999"), "serve", "--port", "from 0 to 65535", "'99999'")


def test_a_parameter_given_twice():
    _one_line(_vetgraph("query", "insight", "--param", "number=1", "--param", "number=2"), "query",
              "--param number is given twice")


def test_a_parameter_value_that_is_not_utf8_names_the_parameter():
    _one_line(_vetgraph("query", "search", b"--param", b"text=\xed\xa0\x80"), "query",
              "parameter 'text': the value is not valid text")


def test_build_changes_since_a_missing_dump(tmp_path):
    _one_line(_vetgraph("build", "--changes-since", "/nonexistent.nq", "--out", str(tmp_path / "release")),
              "build", "--changes-since /nonexistent.nq: no such file")
    assert list(tmp_path.iterdir()) == []


def test_each_command_converts_the_data_to_the_store_once(monkeypatch, capsys):
    """Loaded caches its conversion to Oxigraph: validate's summary, stats and the completeness query share it."""
    from vetgraph.stores import OxigraphStore

    conversions = []
    convert = OxigraphStore.from_dataset.__func__

    def counting(cls, dataset):
        conversions.append(dataset)
        return convert(cls, dataset)

    monkeypatch.setattr(OxigraphStore, "from_dataset", classmethod(counting))
    for command in (["stats"], ["validate"], ["query", "completeness"]):
        conversions.clear()
        assert main(command) == 0
        assert len(conversions) == 1, command
    capsys.readouterr()
