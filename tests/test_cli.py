"""The command layer (`vetgraph.cli`): every command reports an error as one line `vetgraph COMMAND: ...`
with pySHACL's exit codes (1: the input was read and does not conform; 2: it cannot be read, or an option
is wrong), never a traceback unless --debug asks for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import data_with_curation

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
    store, _, _ = _remote(args)
    assert store.http.credentials == Credentials("alice", "secret")
