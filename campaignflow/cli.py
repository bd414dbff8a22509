"""The ``campaignflow`` command: the demo campaign and database migrations.

::

    campaignflow demo [--db PATH]
    campaignflow db upgrade --url URL [--prefix cf_] [--schema S]
    campaignflow db current --url URL [--prefix cf_] [--schema S]
    campaignflow policy [--markdown]
    campaignflow policy pin / migrate   (policy versions: campaignflow.policycli)
    campaignflow diagram
    campaignflow audit verify --url URL [--task ID] [--checkpoint FILE (--key-file K | --anchor ROOT)]
    campaignflow audit checkpoint --url URL --out FILE [--key-file K]
    campaignflow archive export --url URL --evidence-dir DIR (--task ID | --campaign C) --out PATH [--zip]
    campaignflow archive check FOLDER
    campaignflow dispatch --url URL [--loop [--interval 5] [--rounds N]] [--plugin MODULE[:ATTR]] …
    campaignflow outbox dead --url URL [--limit 50]
    campaignflow outbox requeue --url URL (--id N … | --all)
    campaignflow sweep --url URL [--loop [--interval 60] [--times N]] [--calendar FILE ...]
    campaignflow recur --url URL --schedules FILE [--until DATE] [--calendar FILE ...]
    campaignflow import / export / rank / report   (the office's commands: campaignflow.officecli)

A campaignflow error (a refusal, a schema problem, bad input) or a database error is printed in
Chinese and English and the command exits with status 1; no traceback is shown for them.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from rich.text import Text

from campaignflow.calendars import china_calendar
from campaignflow.delivery import DispatchReport
from campaignflow.demo import run_demo
from campaignflow.dossier import check_dossier, export_campaign, export_task
from campaignflow.engine import Engine
from campaignflow.errors import (
    CampaignflowError,
    InvalidInput,
    LedgerError,
    RuleViolation,
    StructureFileError,
)
from campaignflow.officecli import COMMANDS as OFFICE_COMMANDS
from campaignflow.policycli import policy
from campaignflow.recurring import load_schedules
from campaignflow.store.evidence import LocalEvidenceStore
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
    if isinstance(error, LedgerError):
        table = Table(title="台账错误 / ledger problems")
        for header in ("行 / row", "列 / column", "问题", "problem"):
            table.add_column(header, overflow="fold")
        for problem in error.problems:
            table.add_row(str(problem.row), problem.column, problem.message_zh, problem.message_en)
        console.print(table)


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


for _command in OFFICE_COMMANDS:  # import, export, rank, report: campaignflow.officecli
    main.add_command(_command)


@main.command()
@click.option(
    "--db",
    "db_path",
    default="campaignflow-demo.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite file to (re)create for the demo / 演示用的 SQLite 文件（每次重新创建）",
)
@click.option(
    "--bulletin",
    "bulletin_path",
    default="campaignflow-demo-bulletin.html",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="where the demo writes its bulletin (.html or .xlsx) / 演示结束时写出的考核排名通报",
)
def demo(db_path: str, bulletin_path: str) -> None:
    """Run the demo campaign on a fixed clock / 运行演示：十余项创卫任务走完各条路径。"""
    console = Console()
    result = run_demo(db_path, console, bulletin=bulletin_path)
    console.print()
    console.print(Text(f"演示数据库 / demo database: {db_path}（{result.tasks} 个任务 / tasks）"))


main.add_command(policy)  # policy [--markdown], policy pin, policy migrate: campaignflow.policycli


@main.command()
def diagram() -> None:
    """Print the lifecycle as a Mermaid state diagram / 以 Mermaid 状态图打印任务流转。"""
    engine = Engine("sqlite://", load_entry_points=False)
    try:
        click.echo(engine.lifecycle.mermaid())
    finally:
        engine.close()


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


# --- audit: verify hash chains and checkpoints ---------------------------------------------------

EXIT_TAMPERED = 2


def _read_key(path: str | None) -> bytes | None:
    """The signing key from the file the operator names (never from the environment); a trailing
    newline an editor added is not part of the key."""
    if path is None:
        return None
    try:
        return Path(path).read_bytes().rstrip(b"\r\n")
    except OSError as error:
        raise InvalidInput(
            f"无法读取密钥文件 {path}：{error.strerror}",
            f"cannot read the key file {path}: {error.strerror}",
            field="key_file",
        ) from None


@main.group()
def audit() -> None:
    """Verify the tamper-evident history / 校验任务历史是否被篡改。"""


@audit.command("verify")
@_database_options
@click.option("--task", "task_id", default=None, help="only this task / 只校验这一任务")
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False),
    default=None,
    help="a checkpoint file from `audit checkpoint` / 检查点文件",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="the checkpoint's signing key / 签名密钥文件",
)
@click.option("--anchor", default=None, help="the root a third party kept / 第三方保存的锚点（根哈希）")
def audit_verify(
    *,
    url: str,
    prefix: str,
    schema: str | None,
    task_id: str | None,
    checkpoint: str | None,
    key_file: str | None,
    anchor: str | None,
) -> None:
    """Recompute every hash chain (and check a signed checkpoint) / 重算哈希链并核对检查点。

    Exit status 0: intact; 2: tampering found (the first broken row of each task is listed);
    1: an error (e.g. a checkpoint that cannot be trusted).
    """
    key = _read_key(key_file)
    engine = _engine(url, prefix, schema, must_exist=True)
    try:
        if task_id is not None:
            if checkpoint is not None:
                raise click.UsageError("--task and --checkpoint cannot be combined")
            seq = engine.verify_history(task_id)
            if seq is None:
                _stdout().print(Text(f"任务 {task_id} 的历史完整 / history intact"))
                return
            where = "链头 / head" if seq == -1 else f"第 {seq} 条 / seq {seq}"
            _stderr().print(Text(f"任务 {task_id} 的历史在{where}处断开 / chain broken", style="bold red"))
            raise click.exceptions.Exit(EXIT_TAMPERED)
        report = engine.verify_history(checkpoint=checkpoint, key=key, anchor=anchor)
    finally:
        engine.close()
    covered = (
        f"，检查点覆盖 {report.checkpointed_tasks} 个任务 / checkpoint covers {report.checkpointed_tasks}"
        if report.checkpoint_root
        else ""
    )
    summary = f"{report.tasks} 个任务，{report.entries} 条历史 / tasks, history rows{covered}"
    if report.ok:
        _stdout().print(Text(f"历史完整 / history intact: {summary}"))
        return
    console = _stderr()
    console.print(
        Text(f"发现篡改 / tampering found: {report.broken_tasks} 个任务 / tasks; {summary}", style="bold red")
    )
    for found in report.breaks:
        console.print(Text(f"  • {found}"))
    raise click.exceptions.Exit(EXIT_TAMPERED)


@audit.command("checkpoint")
@_database_options
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="checkpoint file to write / 输出文件"
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="HMAC key kept away from the database / 签名密钥文件（不存放在数据库中）",
)
def audit_checkpoint(url: str, prefix: str, schema: str | None, out: str, key_file: str | None) -> None:
    """Sign every task's history head now / 为所有任务的当前链头生成签名检查点。

    Prints the anchor line: give it to a third party (or publish it) to keep.
    """
    key = _read_key(key_file)
    engine = _engine(url, prefix, schema, must_exist=True)
    try:
        summary = engine.checkpoint(out, key=key)
    finally:
        engine.close()
    signed = "已签名 / signed" if summary.mac else "未签名，请保存锚点 / unsigned: keep the anchor"
    _stdout().print(Text(f"检查点 / checkpoint: {out}（{summary.count} 个任务 / tasks，{signed}）"))
    _stdout().print(Text(f"锚点 / anchor: {summary.anchor}"))


# --- archive: export dossiers ---------------------------------------------------------------------


@main.group("archive")
def archive_group() -> None:
    """Dossiers (专卷): export and check / 专卷导出与核验。"""


@archive_group.command("export")
@_database_options
@click.option(
    "--evidence-dir",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="the content-addressed evidence store / 证据库目录",
)
@click.option("--task", "task_id", default=None, help="one task's dossier / 导出单个任务的专卷")
@click.option("--campaign", default=None, help="every archived task of a campaign / 导出整个创建活动")
@click.option(
    "--include-open", is_flag=True, help="with --campaign: tasks not archived yet too / 含未归档任务"
)
@click.option(
    "--out", required=True, type=click.Path(), help="folder (or .zip with --zip) / 输出目录或 zip 文件"
)
@click.option("--zip", "as_zip", is_flag=True, help="write one zip file instead of a folder / 输出为 zip")
def archive_export(
    *,
    url: str,
    prefix: str,
    schema: str | None,
    evidence_dir: str,
    task_id: str | None,
    campaign: str | None,
    include_open: bool,
    out: str,
    as_zip: bool,
) -> None:
    """Export dossiers filed by year and indicator / 按年度、指标导出专卷（清单、佐证文件、中文摘要）。"""
    if (task_id is None) == (campaign is None):
        raise click.UsageError("give exactly one of --task and --campaign")
    store = LocalEvidenceStore(evidence_dir)
    engine = _engine(url, prefix, schema, must_exist=True)
    try:
        if task_id is not None:
            written = export_task(engine, task_id, out, evidence_store=store, as_zip=as_zip)
            count = 1
        else:
            assert campaign is not None
            count = len(
                export_campaign(
                    engine, campaign, out, evidence_store=store, as_zip=as_zip, include_open=include_open
                )
            )
            written = Path(out)
    finally:
        engine.close()
    _stdout().print(Text(f"已导出 {count} 份专卷 / exported {count} dossier(s): {written}"))


@archive_group.command("check")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
def archive_check(folder: str) -> None:
    """Check one exported dossier from its files alone / 仅凭导出文件核验一份专卷。

    Exit status 0: every evidence hash and the history chain hold; 2: problems, listed.
    """
    problems = check_dossier(folder)
    if not problems:
        _stdout().print(Text(f"专卷完整 / dossier intact: {folder}"))
        return
    console = _stderr()
    console.print(Text(f"专卷有问题 / dossier problems: {folder}", style="bold red"))
    for problem in problems:
        console.print(Text(f"  • {problem}"))
    raise click.exceptions.Exit(EXIT_TAMPERED)


# --- delivery -----------------------------------------------------------------------------------


def _plugins(specs: tuple[str, ...]) -> tuple[object, ...]:
    """The objects named ``module`` or ``module:attribute``."""
    found: list[object] = []
    for spec in specs:
        module_name, _sep, attribute = spec.partition(":")
        try:
            target: object = importlib.import_module(module_name)
            for part in filter(None, attribute.split(".")):
                target = getattr(target, part)
        except (ImportError, AttributeError) as error:
            raise InvalidInput(
                f"找不到插件 {spec!r}：{error}", f"cannot load plugin {spec!r}: {error}", field="plugin"
            ) from None
        found.append(target)
    return tuple(found)


def _report_line(report: DispatchReport) -> Text:
    return Text(
        f"已认领 claimed {report.claimed} · 已送达 delivered {report.delivered} "
        f"(消息 messages {report.sent}) · 已展开 expanded {report.expanded} · "
        f"待重试 retrying {report.failed} · 限流顺延 deferred {report.deferred} · "
        f"死信 dead {report.dead} · 租约丢失 lost leases {report.lost_leases}"
    )


@main.command()
@_database_options
@click.option(
    "--plugin", "plugin_specs", multiple=True, help="register MODULE[:ATTR] as a plugin (repeatable)"
)
@click.option("--no-entry-points", is_flag=True, help="do not load installed plugins / 不加载已安装的插件")
@click.option("--loop", is_flag=True, help="keep dispatching until interrupted / 持续投递")
@click.option(
    "--interval", default=5.0, show_default=True, type=float, help="with --loop: seconds between rounds"
)
@click.option("--rounds", default=0, type=int, help="with --loop: stop after N rounds (0: until interrupted)")
@click.option("--batch", default=None, type=int, help="rows claimed per round (default: the policy's)")
def dispatch(  # noqa: PLR0917  click passes every option as an argument
    url: str,
    prefix: str,
    schema: str | None,
    plugin_specs: tuple[str, ...],
    no_entry_points: bool,
    loop: bool,
    interval: float,
    rounds: int,
    batch: int | None,
) -> None:
    """Deliver outbox notifications through the plugins' channels / 投递待发通知。

    Without --loop: deliver everything due now, then stop. With --loop: keep going, waiting
    --interval seconds whenever nothing is due.
    """
    engine = _engine(
        url, prefix, schema, plugins=_plugins(plugin_specs), load_entry_points=not no_entry_points
    )
    console = _stdout()
    total = DispatchReport()
    done = 0
    try:
        while True:
            report = engine.dispatch(limit=batch)
            total += report
            done += 1
            if report.claimed:
                console.print(_report_line(report))
            if loop and rounds and done >= rounds:
                break
            if report.claimed == 0:
                if not loop:
                    break
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        engine.close()
    console.print(Text("合计 / total: ", style="bold") + _report_line(total))


@main.group()
def outbox() -> None:
    """Dead letters of the outbox / 死信查看与重新投递。"""


@outbox.command()
@_database_options
@click.option("--limit", default=50, show_default=True, type=int)
def dead(url: str, prefix: str, schema: str | None, limit: int) -> None:
    """List dead letters with their last fault / 列出死信及最后一次错误。"""
    engine = _engine(url, prefix, schema, must_exist=True, load_entry_points=False)
    try:
        entries = engine.dead_letters(limit)
    finally:
        engine.close()
    if not entries:
        _stdout().print(Text("没有死信 / no dead letters"))
        return
    table = Table(
        "id", "任务 task", "事件 event", "收件 to", "次数 attempts", "停放 parked", "错误 last error"
    )
    for entry in entries:
        parked = entry.dead_at.isoformat(timespec="seconds") if entry.dead_at else ""
        table.add_row(
            str(entry.id),
            entry.task_id,
            entry.event,
            entry.recipient,
            str(entry.attempts),
            parked,
            entry.last_error or "",
        )
    _stdout().print(table)


@outbox.command()
@_database_options
@click.option("--id", "ids", multiple=True, type=int, help="a dead letter's id (repeatable)")
@click.option("--all", "everything", is_flag=True, help="every dead letter / 全部死信")
def requeue(url: str, prefix: str, schema: str | None, ids: tuple[int, ...], everything: bool) -> None:
    """Put dead letters back in line / 重新投递死信。"""
    if bool(ids) == everything:
        raise click.UsageError("give --id N (repeatable) or --all, not both")
    engine = _engine(url, prefix, schema, must_exist=True, load_entry_points=False)
    try:
        count = engine.requeue(None if everything else list(ids))
    finally:
        engine.close()
    _stdout().print(Text(f"已重新排队 / requeued: {count}"))


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


@main.command()
@_database_options
@click.option(
    "--schedules",
    required=True,
    type=click.Path(dir_okay=False),
    help="the recurring duties ([[duty]] tables, TOML) / 常态化任务计划文件",
)
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="create instances due up to this day (default: a week ahead) / 生成至该日",
)
@click.option(
    "--calendar",
    "calendars",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="a year's holiday schedule (TOML) for years chinese-calendar lacks / 节假日安排文件",
)
def recur(
    *, url: str, prefix: str, schema: str | None, schedules: str, until: Any, calendars: tuple[str, ...]
) -> None:
    """Create the coming instances of recurring duties / 生成常态化任务。

    Run it daily: each instance is created once, by the system, under the 四有四定 rules. Exits 1
    if any instance was refused (each is listed with its reason).
    """
    duties = load_schedules(schedules)
    engine = _engine(url, prefix, schema, must_exist=True, calendar=china_calendar(calendars))
    try:
        report = engine.generate_recurring(duties, until=until.date() if until is not None else None)
    finally:
        engine.close()
    out = _stdout()
    for item in report.created:
        out.print(Text(f"已生成 / created {item.external_ref}（{item.due.isoformat()}）: {item.task_id}"))
    for refused in report.refused:
        _stderr().print(
            Text(
                f"未生成 / refused {refused.occurrence.external_ref}: "
                f"{refused.message_zh} / {refused.message_en}"
            )
        )
    out.print(
        Text(
            f"常态化任务至 {report.until.isoformat()}：新生成 {len(report.created)} 项，已有 "
            f"{len(report.existing)} 项，未生成 {len(report.refused)} 项 / created {len(report.created)}, "
            f"existing {len(report.existing)}, refused {len(report.refused)}"
        )
    )
    if report.refused:
        raise SystemExit(1)


@main.group()
def structure() -> None:
    """Campaign structure files / 测评体系与单位网络。"""


@structure.command("load")
@_database_options
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
def structure_load(url: str, prefix: str, schema: str | None, path: str) -> None:
    """Load a campaign and its indicator tree and/or units, grids, sites and office scopes (TOML,
    YAML or .xlsx) in one transaction / 载入测评体系、单位网络（全部载入或全部不载入）。

    Exits 1 listing every bad row (sheet, row, field) if anything is wrong; nothing is loaded then.
    """
    engine = _engine(url, prefix, schema, must_exist=True)
    try:
        loaded = engine.load_structure(path)
    except StructureFileError as error:
        _report(error)
        for problem in error.problems:
            _stderr().print(Text(f"  • {problem}"))
        raise SystemExit(1) from None
    finally:
        engine.close()
    n = {
        "campaign": 1 if loaded.campaign else 0,
        "indicators": len(loaded.indicators),
        "units": len(loaded.units),
        "grids": len(loaded.grids),
        "sites": len(loaded.sites),
        "scopes": len(loaded.scopes),
    }
    counts = (
        f"创建活动 {n['campaign']} 个、指标 {n['indicators']} 项、单位 {n['units']} 个、"
        f"网格 {n['grids']} 个、点位 {n['sites']} 个、管辖范围 {n['scopes']} 条"
    )
    english = ", ".join(f"{key} {value}" for key, value in n.items())
    _stdout().print(Text(f"已载入 / loaded {path}：{counts} / {english}"))
