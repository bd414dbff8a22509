"""The Chinese step library, and the specs' engine with this plugin registered (and nothing else:
installed entry points are not loaded, so the scenarios test this plugin alone)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from campaignflow_sanitation import plugin

from campaignflow import Engine, FixedClock
from campaignflow.testing import seed_units
from campaignflow.testing.steps import *  # noqa: F403  (steps register as fixtures by name)


@pytest.fixture
def cf_engine(tmp_path: Path, cf_clock: FixedClock) -> Iterator[Engine]:
    engine = Engine(
        f"sqlite:///{tmp_path / 'sanitation-specs.db'}",
        clock=cf_clock,
        plugins=[plugin],
        load_entry_points=False,
    )
    seed_units(engine)
    yield engine
    engine.close()
