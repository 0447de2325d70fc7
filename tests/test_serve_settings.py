"""The service's settings: token files, configuration files, limits and the command line."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from valueroute.cli.serve import register, run_serve
from valueroute.errors import InvalidInputError
from valueroute.serve import (
    Limits,
    Principal,
    ServeSettings,
    TokenTable,
    is_loopback,
    load_config,
    load_tokens,
)

ISSUE_EXAMPLE = """
[tokens]
"s3cret-host" = "host"
"s3cret-sup"  = "supervisor"
"s3cret-ann"  = { role = "agent", agent = "ann" }
"""


def _file(tmp_path: Path, text: str, name: str = "tokens.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_token_file_of_the_issue_reads_as_written(tmp_path: Path) -> None:
    table = load_tokens(_file(tmp_path, ISSUE_EXAMPLE))
    assert len(table) == 3
    assert table.authenticate("s3cret-host") == Principal("host")
    assert table.authenticate("s3cret-sup") == Principal("supervisor")
    assert table.authenticate("s3cret-ann") == Principal("agent", "ann")


def test_near_misses_of_a_token_are_unknown(tmp_path: Path) -> None:
    table = load_tokens(_file(tmp_path, ISSUE_EXAMPLE))
    for guess in ("s3cret-hos", "s3cret-host ", "S3CRET-HOST", "", "s3cret-host\x00", "\udcff"):
        assert table.authenticate(guess) is None, guess


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[tokens]\n"long-enough-1" = "root"\n', "tokens entry 1.role"),
        ('[tokens]\n"long-enough-1" = { role = "agent" }\n', "tokens entry 1.agent"),
        ('[tokens]\n"long-enough-1" = { role = "host", agent = "ann" }\n', "tokens entry 1.agent"),
        ('[tokens]\n"long-enough-1" = { role = "host", team = "a" }\n', "tokens entry 1"),
        ('[tokens]\n"long-enough-1" = 3\n', "tokens entry 1"),
        ('[tokens]\n"short" = "host"\n', "tokens"),
        ("[tokens]\n", "tokens"),
        ('[users]\n"long-enough-1" = "host"\n', "tokens file"),
        ("[tokens\n", "tokens file"),
    ],
)
def test_a_wrong_token_file_is_refused_naming_the_entry_never_the_token(
    tmp_path: Path, text: str, named: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_tokens(_file(tmp_path, text))
    message = str(caught.value)
    assert message.startswith(named), message
    assert "long-enough-1" not in message
    assert "'short'" not in message


def test_a_missing_token_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="tokens file"):
        load_tokens(tmp_path / "absent.toml")


def test_only_loopback_may_go_without_tokens(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    for host in ("127.0.0.1", "127.8.9.1", "::1", "localhost"):
        assert is_loopback(host)
        ServeSettings(journal=journal, host=host)
    for host in ("0.0.0.0", "::", "10.0.0.5", "example.org"):
        assert not is_loopback(host)
        with pytest.raises(InvalidInputError, match="host: got"):
            ServeSettings(journal=journal, host=host)
    tokens = TokenTable({"long-enough-1": Principal("host")})
    assert ServeSettings(journal=journal, host="0.0.0.0", tokens=tokens).principal(None) is None


def test_without_tokens_every_request_is_admin(tmp_path: Path) -> None:
    settings = ServeSettings(journal=tmp_path / "j.sqlite")
    assert settings.principal(None) == Principal("admin")


def test_the_authorization_header_must_be_a_bearer_token(tmp_path: Path) -> None:
    tokens = TokenTable({"long-enough-1": Principal("host")})
    settings = ServeSettings(journal=tmp_path / "j.sqlite", tokens=tokens)
    assert settings.principal("Bearer long-enough-1") == Principal("host")
    assert settings.principal("bearer  long-enough-1 ") == Principal("host")
    for header in ("long-enough-1", "Basic long-enough-1", "Bearer", "Bearer other-token"):
        assert settings.principal(header) is None, header


def test_a_config_file_sets_engine_options_policy_and_limits(tmp_path: Path) -> None:
    config = load_config(
        _file(
            tmp_path,
            "[engine]\noffer_timeout = 20\ndispatch = 'pull'\n"
            "[policy]\nname = 'aging_priority'\nparams = { seconds_per_point = 30 }\n"
            "[limits]\nmax_body_bytes = 2048\n",
            "config.toml",
        )
    )
    settings = ServeSettings(journal=tmp_path / "j.sqlite", **config)
    assert settings.limits.max_body_bytes == 2048
    engine = settings.build_engine(lambda: 0.0)
    assert engine.policy.name == "aging_priority"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[server]\nport = 1\n", "config table"),
        ("[engine]\noffer_timout = 3\n", "engine option"),
        ("[engine]\nclock = 3\n", "engine option"),
        ("[limits]\nmax_body = 3\n", "limit"),
        ("[limits]\nmax_body_bytes = 0\n", "max_body_bytes"),
        ("[limits]\nkeepalive_seconds = -1\n", "keepalive_seconds"),
        ("[policy]\nname = 'best'\n", "policy"),
        ("[policy]\nname = 3\n", "policy.name"),
    ],
)
def test_a_wrong_config_file_is_refused_naming_what(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_config(_file(tmp_path, text, "config.toml"))
    assert str(caught.value).startswith(named), str(caught.value)


def test_limits_must_be_positive() -> None:
    with pytest.raises(InvalidInputError, match="max_in_flight"):
        Limits(max_in_flight=0)
    with pytest.raises(InvalidInputError, match="event_buffer"):
        Limits(event_buffer=True)


def test_serve_registers_as_a_subcommand() -> None:
    parser = argparse.ArgumentParser(prog="valueroute")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "--port", "0", "--journal", "j.sqlite"])
    assert args.run is run_serve
    assert (args.host, args.port, args.tokens) == ("127.0.0.1", 0, None)


def _serve(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "valueroute.cli.serve", "--port", "0", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


def test_the_command_line_refuses_a_public_address_without_tokens(tmp_path: Path) -> None:
    done = _serve("--host", "0.0.0.0", "--journal", "j.sqlite", cwd=tmp_path)
    assert done.returncode == 2
    assert "host: got '0.0.0.0'" in done.stderr
    assert "--tokens" in done.stderr
    assert not (tmp_path / "j.sqlite").exists()


def test_the_command_line_refuses_bad_files_in_one_line(tmp_path: Path) -> None:
    _file(tmp_path, '[tokens]\n"x" = "host"\n')
    _file(tmp_path, "[engine]\nbogus = 1\n", "config.toml")
    for arguments, expected in (
        (("--tokens", "tokens.toml"), "tokens"),
        (("--config", "config.toml"), "engine option"),
        (("--rules", "absent.toml"), "--rules"),
    ):
        done = _serve("--journal", "j.sqlite", *arguments, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "j.sqlite").exists()
