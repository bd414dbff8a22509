"""The ``campaignflow`` command: the demo campaign and database migrations.

::

    campaignflow demo [--db PATH]
    campaignflow db upgrade --url URL [--prefix cf_] [--schema S]
    campaignflow db current --url URL [--prefix cf_] [--schema S]
    campaignflow sweep --url URL [--loop [--interval 60] [--times N]] [--calendar FILE ...]

A campaignflow error (a refusal, a schema problem, bad input) or a database error is printed in
Chinese and English and the command exits with status 1; no traceback is shown for them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from rich.console import Console
from rich.text import Text

from campaignflow.calendars import china_calendar
from campaignflow.demo import run_demo
from campaignflow.engine import Engine
from campaignflow.errors import CampaignflowError, InvalidInput, RuleViolation
from campaignflow.store.schema import HEAD

__all__ = ["main"]

EXIT_ERROR = 1


def _stderr() -> Console:
    return Console(stderr=True, soft_wrap=True)


def _stdout() -> Console:
    return Console(soft_wrap=True)


def _report(error: CampaignflowError) -> None:
    console = _stderr()
    console.print(Text(f"错误 / error [{error.code}]: {error.message_zh}", style="bold red"))
    console.print(Text(f"  {error.message_en}", style="red"))
    if isinstance(error, RuleViolation):
        for item in error.missing:
            console.print(Text(f"  • {item.code}: {item.rule}：{item.message_zh} / {item.message_en}"))


def _database_problem(error: Exception) -> None:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    hint = ""
    if isinstance(error, ModuleNotFoundError):
        hint = "（PostgreSQL 需要 pip install 'campaignflow[postgresql]' / needs the postgresql extra）"
    _stderr().print(Text(f"数据库错误 / database error: {first}{hint}", style="bold red"))


class _Group(click.Group):
    """A group that turns campaignflow and database errors into a message and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CampaignflowError as error:
            _report(error)
            raise click.exceptions.Exit(EXIT_ERROR) from None
        except (sa.exc.SQLAlchemyError, ModuleNotFoundError) as error:
            _database_problem(error)
            raise click.exceptions.Exit(EXIT_ERROR) from None


@click.group(cls=_Group)
@click.version_option(package_name="campaignflow")
def main() -> None:
    """campaignflow：创卫/创文任务全流程引擎（四有四定）。

    The task lifecycle engine for municipal campaigns under the 四有四定 rule.
    """


@main.command()
@click.option(
    "--db",
    "db_path",
    default="campaignflow-demo.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite file to (re)create for the demo / 演示用的 SQLite 文件（每次重新创建）",
)
def demo(db_path: str) -> None:
    """Run the demo campaign on a fixed clock / 运行演示：十余项创卫任务走完各条路径。"""
    console = Console()
    result = run_demo(db_path, console)
    console.print()
    console.print(Text(f"演示数据库 / demo database: {db_path}（{result.tasks} 个任务 / tasks）"))


@main.group()
def db() -> None:
    """Database schema migrations / 数据库结构迁移。"""


_F = TypeVar("_F", bound=Callable[..., Any])


def _database_options(command: _F) -> _F:
    """--url, --prefix and --schema, shared by the ``db`` commands."""
    command = click.option(
        "--schema", default=None, help="database schema for campaignflow's tables / 表所在的 schema"
    )(command)
    command = click.option("--prefix", default="cf_", show_default=True, help="table name prefix / 表名前缀")(
        command
    )
    return click.option(
        "--url",
        required=True,
        help="SQLAlchemy database URL, e.g. sqlite:///campaign.db or postgresql://user@host/db",
    )(command)


def _engine(url: str, prefix: str, schema: str | None, *, must_exist: bool = False, **options: Any) -> Engine:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise click.BadParameter(f"not a database URL: {url!r}", param_hint="--url") from None
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if must_exist and file not in (None, "", ":memory:") and not Path(str(file)).is_file():
        raise InvalidInput(
            f"数据库文件 {file!r} 不存在", f"the database file {file!r} does not exist", field="url"
        )
    return Engine(parsed, migrate=False, table_prefix=prefix, schema=schema, **options)


@db.command()
@_database_options
def upgrade(url: str, prefix: str, schema: str | None) -> None:
    """Migrate campaignflow's tables to the newest schema / 升级到最新结构版本。"""
    engine = _engine(url, prefix, schema)
    try:
        revision = engine.migrate()
    finally:
        engine.close()
    _stdout().print(Text(f"已升级到结构版本 / upgraded to schema revision: {revision}"))


@db.command()
@_database_options
def current(url: str, prefix: str, schema: str | None) -> None:
    """Show the schema revision the database is at / 显示当前结构版本。"""
    engine = _engine(url, prefix, schema, must_exist=True)
    try:
        revision = engine.schema_revision()
    finally:
        engine.close()
    if revision is None:
        text = f"尚未迁移 / not migrated (head is {HEAD}): run `campaignflow db upgrade`"
    elif revision == HEAD:
        text = f"当前结构版本 / current schema revision: {revision} (head)"
    else:
        text = f"当前结构版本 / current schema revision: {revision} (head is {HEAD})"
    _stdout().print(Text(text))


@main.command()
@_database_options
@click.option("--loop", is_flag=True, help="keep sweeping every --interval seconds / 循环巡查")
@click.option(
    "--interval", default=60.0, show_default=True, type=click.FloatRange(min=0), help="seconds between sweeps"
)
@click.option(
    "--times", default=0, type=click.IntRange(min=0), help="with --loop: stop after N sweeps (0: never)"
)
@click.option(
    "--batch", default=200, show_default=True, type=click.IntRange(1, 1000), help="tasks per transaction"
)
@click.option(
    "--calendar",
    "calendars",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="a year's holiday schedule (TOML) for years chinese-calendar lacks / 节假日安排文件",
)
@click.option(
    "--assume-weekdays",
    is_flag=True,
    help="count years without a schedule Monday–Friday instead of reporting them / 无安排的年份按周一至周五",
)
def sweep(
    *,
    url: str,
    prefix: str,
    schema: str | None,
    loop: bool,
    interval: float,
    times: int,
    batch: int,
    calendars: tuple[str, ...],
    assume_weekdays: bool,
) -> None:
    """Remind and escalate due tasks (催办 → 督办 → 挂牌督办 → 公开曝光) / 督办巡查。

    Each step is recorded once however often (and however many) sweeps run.
    """
    calendar = china_calendar(calendars, unknown_years="weekdays" if assume_weekdays else "raise")
    engine = _engine(url, prefix, schema, must_exist=True, calendar=calendar)
    out = _stdout()
    runs = 0
    try:
        while True:
            report = engine.sweep(batch=batch)
            runs += 1
            for record in report.recorded:
                out.print(Text(f"{record.label_zh} / {record.level}: {record.task_id}（{record.unit}）"))
            for problem in report.problems:
                _stderr().print(
                    Text(f"未能判断 / skipped {problem.task_id}: {problem.message_zh} / {problem.message_en}")
                )
            out.print(
                Text(
                    f"督办巡查 / sweep {report.at.isoformat(timespec='seconds')}: "
                    f"检查 {report.examined} 项到期任务，记录 {len(report.recorded)} 项督办 / "
                    f"examined {report.examined}, recorded {len(report.recorded)}"
                )
            )
            if not loop or (times and runs >= times):
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        engine.close()
