"""The campaign office's commands (registered on ``campaignflow`` by :mod:`campaignflow.cli`)::

    campaignflow import --url URL --campaign C --file LEDGER.xlsx|.csv --office UNIT [--by ID]
    campaignflow export --url URL --campaign C --out LEDGER.xlsx|.csv
    campaignflow rank   --url URL --period 2026-11 [--period …] [--weights 15,25,60]
                        [--scheme NAME | --scheme-file F]
    campaignflow report --url URL --period 2026-11 --out BULLETIN.html|.xlsx [--scheme …] [--campaign C]

A period is ``2026-11`` (month), ``2026-W45`` (ISO week), ``2026-Q4``, ``2026`` or
``2026-11-01..2026-11-30``. Errors print in Chinese and English and exit with status 1.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from campaignflow.bulletin import build_bulletin, write_bulletin
from campaignflow.domain.roles import Actor, Role
from campaignflow.domain.schemes import ScoreScheme, scheme_from_mapping
from campaignflow.domain.scoring import Period, cumulative, published, rank
from campaignflow.engine import Engine
from campaignflow.errors import InvalidInput
from campaignflow.ledger import export_ledger, import_ledger
from campaignflow.scoring import scheme_named, score_period

__all__ = ["COMMANDS"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _database(command: _F) -> _F:
    command = click.option(
        "--schema", default=None, help="database schema for campaignflow's tables / 表所在的 schema"
    )(command)
    command = click.option("--prefix", default="cf_", show_default=True, help="table name prefix / 表名前缀")(
        command
    )
    return click.option(
        "--url", required=True, help="SQLAlchemy database URL / 数据库地址，如 sqlite:///campaign.db"
    )(command)


def _open(url: str, prefix: str, schema: str | None) -> Engine:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise click.BadParameter(
            f"not a database URL / 不是数据库地址: {url!r}", param_hint="--url"
        ) from None
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).is_file():
        raise InvalidInput(
            f"数据库文件 {file!r} 不存在", f"the database file {file!r} does not exist", field="url"
        )
    return Engine(parsed, migrate=False, table_prefix=prefix, schema=schema)


@contextmanager
def _engine(url: str, prefix: str, schema: str | None) -> Iterator[Engine]:
    engine = _open(url, prefix, schema)
    try:
        yield engine
    finally:
        engine.close()


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr, fed as ``progress(done, total)``."""
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task(label, total=None)
    with bar:

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _periods(values: tuple[str, ...]) -> list[Period]:
    if not values:
        raise click.UsageError("give at least one --period / 至少指定一个考核周期 --period")
    return [Period.parse(v) for v in values]


def _scheme(engine: Engine, name: str, file: str | None) -> ScoreScheme:
    if file is None:
        return scheme_named(engine, name)
    try:
        data = tomllib.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InvalidInput(
            f"无法读取评分办法文件 {file}：{error}",
            f"cannot read the scheme file {file}: {error}",
            field="scheme",
        ) from None
    return scheme_from_mapping(data)


_SCHEME_OPTIONS = (
    click.option(
        "--scheme",
        default="weighted_rates",
        show_default=True,
        help="a built-in or plugin scheme / 评分办法名称"
        "（weighted_rates, threshold_deductions, escalating_deductions）",
    ),
    click.option(
        "--scheme-file",
        type=click.Path(dir_okay=False, exists=True),
        default=None,
        help="a scheme kept as data (TOML) / 以 TOML 文件给出的评分办法",
    ),
    click.option("--campaign", default=None, help="only this campaign / 只统计该创建活动"),
)


def _scheme_options(command: _F) -> _F:
    for option in reversed(_SCHEME_OPTIONS):
        command = option(command)
    return command


@click.command("import")
@_database
@click.option("--campaign", required=True, help="the campaign the tasks join / 任务所属创建活动")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(dir_okay=False, exists=True),
    help="the ledger / 台账文件",
)
@click.option("--office", required=True, help="the office unit that assigns / 交办的创建办单位编码")
@click.option("--by", "actor", default="ledger-import", show_default=True, help="who imports / 导入人")
def import_command(
    *, url: str, prefix: str, schema: str | None, campaign: str, path: str, office: str, actor: str
) -> None:
    """Import a ledger (.xlsx/.csv), all or nothing / 导入台账：逐行校验，全部成功才写入。

    Every problem is listed with its row and column; nothing is imported unless every row is valid.
    每一处错误都列出行号和列名；只要有一行不合格，就一条也不导入。
    """
    with _engine(url, prefix, schema) as engine, _progress("导入 / importing") as progress:
        report = import_ledger(
            engine, path, by=Actor(actor, office, Role.OFFICE), campaign=campaign, progress=progress
        )
    out = Console(soft_wrap=True)
    out.print(
        Text(
            f"已导入 {len(report.tasks)} 项任务、{len(report.units)} 个单位"
            f"（跳过空行 {report.skipped_blank_rows} 行）"
            f" / imported {len(report.tasks)} tasks and {len(report.units)} units"
        )
    )


@click.command("export")
@_database
@click.option("--campaign", required=True, help="the campaign / 创建活动")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="LEDGER.xlsx or .csv / 导出文件")
def export_command(url: str, prefix: str, schema: str | None, campaign: str, out: str) -> None:
    """Export the campaign's ledger / 导出任务台账（与导入格式相同）。"""
    with _engine(url, prefix, schema) as engine, _progress("导出 / exporting") as progress:
        count = export_ledger(engine, out, campaign=campaign, progress=progress)
    Console(soft_wrap=True).print(Text(f"已导出 {count} 项任务 / exported {count} tasks: {out}"))


@click.command("rank")
@_database
@click.option(
    "--period",
    "periods",
    multiple=True,
    help="2026-11, 2026-W45, 2026-Q4, 2026 or a..b; repeat for a cumulative total / 考核周期，可重复",
)
@click.option(
    "--weights",
    default=None,
    help="per-period weights for a cumulative total (default 15,25,60 for three periods) / 各周期权重",
)
@_scheme_options
def rank_command(
    *,
    url: str,
    prefix: str,
    schema: str | None,
    periods: tuple[str, ...],
    weights: str | None,
    scheme: str,
    scheme_file: str | None,
    campaign: str | None,
) -> None:
    """Rank the units / 考核排名（并列同名次，如 1、2、2、4）。

    With several --period, ranks by the weighted cumulative total (e.g. Y1×15% + Y2×25% + Y3×60%).
    指定多个周期时按加权累计得分排名。
    """
    spans = _periods(periods)
    factors: list[str] | None = None
    if weights is not None:
        factors = [w.strip() for w in weights.split(",") if w.strip()]
    elif len(spans) == 3:
        factors = ["15", "25", "60"]
    elif len(spans) > 1:
        raise click.UsageError("give --weights for these periods / 请用 --weights 给出各周期权重")
    with _engine(url, prefix, schema) as engine:
        chosen = _scheme(engine, scheme, scheme_file)
        names = {u.id: u.name for u in engine.units()}
        per_period = [
            {s.unit: s.points for s in score_period(engine, span, chosen, campaign=campaign)}
            for span in spans
        ]
    if len(spans) == 1:
        totals: dict[str, Fraction] = per_period[0]
    else:
        assert factors is not None
        total = sum(Fraction(f) for f in factors)
        scale = 100 if total == 100 else 1
        totals = cumulative(per_period, [Fraction(f) / scale for f in factors], missing=0)
    lines = rank(totals, red_at_least=chosen.red_at_least, black_below=chosen.black_below)
    title = " + ".join(s.label for s in spans)
    table = Table(title=f"{title} 考核排名（{chosen.label_zh}）")
    for header in (
        "名次",
        "单位编码",
        "责任单位",
        *(s.label for s in spans if len(spans) > 1),
        "得分",
        "红黑榜",
    ):
        table.add_column(header, overflow="fold")
    for line in lines:
        each = (
            [str(published(p[line.unit])) if line.unit in p else "—" for p in per_period]
            if len(spans) > 1
            else []
        )
        mark = "红榜" if line.red else "黑榜" if line.black else ""
        table.add_row(
            str(line.rank), line.unit, names.get(line.unit, line.unit), *each, str(line.points), mark
        )
    Console(soft_wrap=True).print(table)


@click.command("report")
@_database
@click.option("--period", required=True, help="2026-11, 2026-W45, 2026-Q4, 2026 or a..b / 考核周期")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="BULLETIN.html or .xlsx / 输出文件"
)
@_scheme_options
def report_command(
    *,
    url: str,
    prefix: str,
    schema: str | None,
    period: str,
    out: str,
    scheme: str,
    scheme_file: str | None,
    campaign: str | None,
) -> None:
    """Write the period's bulletin / 生成考核排名通报（HTML 或 Excel）。"""
    span = Period.parse(period)
    with _engine(url, prefix, schema) as engine:
        bulletin = build_bulletin(engine, span, _scheme(engine, scheme, scheme_file), campaign=campaign)
        path = write_bulletin(bulletin, out)
    Console(soft_wrap=True).print(
        Text(
            f"{bulletin.title}：{len(bulletin.lines)} 个单位，"
            f"红榜 {len(bulletin.red)}，黑榜 {len(bulletin.black)}，"
            f"超期任务 {len(bulletin.overdue)} 项 / bulletin written: {path}"
        )
    )


COMMANDS = (import_command, export_command, rank_command, report_command)
