"""``campaignflow dispatch`` and ``campaignflow outbox dead|requeue``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from campaignflow import Contact, DeliveryPolicy, cli
from campaignflow.testing import assign_sample
from campaignflow.testing.channels import ChannelPlugin, RecordingChannel, sqlite_engine

CHANNEL = RecordingChannel()
PLUGIN = ChannelPlugin(CHANNEL)  # the commands load it with --plugin test_delivery_cli:PLUGIN
SPEC = f"{__name__}:PLUGIN"


@pytest.fixture
def database(tmp_path: Path) -> tuple[str, list[str]]:
    """A SQLite file with two assigned tasks whose messages failed once and are dead letters."""
    CHANNEL.messages.clear()
    path = tmp_path / "campaign.db"
    engine = sqlite_engine(path, plugins=(PLUGIN,), delivery=DeliveryPolicy(max_attempts=1))
    try:
        engine.set_contacts(
            "cgj", [Contact(id="liu", name="刘洋", role="liaison", addresses={"recording": "liu"})]
        )
        tasks = [assign_sample(engine), assign_sample(engine)]
        CHANNEL.fail(1)
        assert engine.dispatch(limit=1).dead == 1
    finally:
        engine.close()
    return f"sqlite:///{path}", [t.id for t in tasks]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args), env={"COLUMNS": "200"}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_dispatch_delivers_what_is_due(database: tuple[str, list[str]]) -> None:
    url, tasks = database
    code, out, err = _run("dispatch", "--url", url, "--plugin", SPEC, "--no-entry-points")
    assert code == 0, err
    assert "已送达 delivered 1" in out
    assert CHANNEL.keys == [f"{tasks[1]}:1:cgj:liu:recording"]


def test_dead_letters_are_listed_and_requeued(database: tuple[str, list[str]]) -> None:
    url, tasks = database
    code, out, err = _run("outbox", "dead", "--url", url)
    assert code == 0, err
    assert tasks[0] in out
    assert "the recording channel was told to fail" in out

    code, out, err = _run("outbox", "requeue", "--url", url, "--all")
    assert code == 0, err
    assert "requeued: 1" in out
    code, out, _ = _run("outbox", "dead", "--url", url)
    assert "no dead letters" in out

    code, out, err = _run(
        "dispatch", "--url", url, "--plugin", SPEC, "--no-entry-points", "--loop", "--rounds", "2"
    )
    assert code == 0, err
    assert "合计 / total" in out
    assert sorted(CHANNEL.keys) == sorted(f"{t}:1:cgj:liu:recording" for t in tasks)


def test_requeue_needs_ids_or_all(database: tuple[str, list[str]]) -> None:
    url, _ = database
    result = CliRunner().invoke(cli.main, ["outbox", "requeue", "--url", url])
    assert result.exit_code == 2
    assert "--id N" in result.output
    code, out, _ = _run("outbox", "requeue", "--url", url, "--id", "999")
    assert (code, "requeued: 0" in out) == (0, True)


def test_an_unknown_plugin_is_a_clean_error(database: tuple[str, list[str]]) -> None:
    url, _ = database
    code, _out, err = _run("dispatch", "--url", url, "--plugin", "no_such_module:x")
    assert code == 1
    assert "cannot load plugin 'no_such_module:x'" in err


def test_dispatch_without_a_channel_says_so(database: tuple[str, list[str]]) -> None:
    url, _ = database
    code, _out, err = _run("dispatch", "--url", url, "--no-entry-points")
    assert code == 1
    assert "campaignflow_channels" in err
