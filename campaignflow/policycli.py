"""``campaignflow policy``: print the policy in force, pin a campaign's policy version, and move a
campaign's open tasks to another version (registered on ``campaignflow`` by :mod:`campaignflow.cli`)::

    campaignflow policy [--markdown]
    campaignflow policy pin     --url URL --campaign C --office UNIT [--by ID]
                                [--rule-set ID=VERSION …| --fingerprint FP] [--plugin MODULE[:ATTR] …]
    campaignflow policy migrate --url URL --campaign C --office UNIT [--by ID]
                                (--to ID=VERSION … | --fingerprint FP) (--dry-run | --apply)
                                [--plugin MODULE[:ATTR] …]

The versioned rule sets come from the installed plugins (entry points) and from ``--plugin``
objects; ``--no-entry-points`` leaves the installed ones out. See docs/policy-versions.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from rich.text import Text

from campaignflow.domain.policies import Policy
from campaignflow.domain.roles import Actor, Role
from campaignflow.engine import Engine
from campaignflow.errors import InvalidInput
from campaignflow.policy import render_policy
from campaignflow.policyversions import MigrationReport

__all__ = ["policy"]

_F = TypeVar("_F", bound=Callable[..., Any])

_OPTIONS = (
    click.option(
        "--url", required=True, help="SQLAlchemy database URL / 数据库地址，如 sqlite:///campaign.db"
    ),
    click.option("--prefix", default="cf_", show_default=True, help="table name prefix / 表名前缀"),
    click.option(
        "--schema", default=None, help="database schema for campaignflow's tables / 表所在的 schema"
    ),
    click.option("--campaign", required=True, help="the campaign / 创建活动"),
    click.option("--office", required=True, help="the office unit that acts / 操作的创建办单位编码"),
    click.option("--by", "actor", default="policy-cli", show_default=True, help="who acts / 操作人"),
    click.option(
        "--plugin",
        "plugin_specs",
        multiple=True,
        help="a plugin object MODULE[:ATTR] with rule sets (repeatable) / 提供规则集的插件，可重复",
    ),
    click.option(
        "--no-entry-points", is_flag=True, help="do not load installed plugins / 不加载已安装的插件"
    ),
    click.option(
        "--fingerprint", default=None, help="a recorded policy's fingerprint / 已记录政策的策略指纹"
    ),
)


def _options(command: _F) -> _F:
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def _plugins(specs: tuple[str, ...]) -> list[object]:
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
    return found


WOULD_FAIL = 3
"""``policy migrate --dry-run`` exit status when some open task would fail the target's rules."""


@contextmanager
def _engine(
    url: str, prefix: str, schema: str | None, plugins: list[object], entry_points: bool
) -> Iterator[Engine]:
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
    engine = Engine(
        parsed,
        migrate=False,
        table_prefix=prefix,
        schema=schema,
        plugins=plugins,
        load_entry_points=entry_points,
    )
    try:
        yield engine
    finally:
        engine.close()


def _versions(values: tuple[str, ...], option: str) -> dict[str, int] | None:
    """``ID=VERSION`` pairs (``sanitation.toilets=2``), or None when none was given."""
    if not values:
        return None
    found: dict[str, int] = {}
    for value in values:
        set_id, sep, version = value.partition("=")
        if not sep or not set_id.strip() or not version.strip().isdigit():
            raise click.BadParameter(
                f"应写成 规则集=版本，如 sanitation.toilets=2，而不是 {value!r} / write ID=VERSION",
                param_hint=option,
            )
        found[set_id.strip()] = int(version)
    return found


def _policy_table(policy: Policy) -> Table:
    table = Table("规则集 rule set", "版本 version", title=f"策略指纹 / fingerprint {policy.fingerprint}")
    for set_id, version in sorted(policy.rule_sets.items()):
        table.add_row(set_id, str(version))
    if not policy.rule_sets:
        table.add_row("（无版本化规则集 / no versioned rule sets）", "")
    return table


@click.group(invoke_without_command=True)
@click.option("--markdown", is_flag=True, help="Markdown instead of plain text / 输出 Markdown")
@click.pass_context
def policy(ctx: click.Context, markdown: bool) -> None:
    """Print the active policy in Chinese; pin and migrate policy versions /
    打印当前生效的政策（流转、角色、四有四定及扩展规则）；锁定政策版本、迁移任务。"""
    if ctx.invoked_subcommand is not None:
        return
    engine = Engine("sqlite://")
    try:
        click.echo(render_policy(engine, markdown=markdown), nl=False)
    finally:
        engine.close()


@policy.command("pin")
@_options
@click.option(
    "--rule-set",
    "rule_sets",
    multiple=True,
    help="ID=VERSION, e.g. sanitation.toilets=1 (repeatable; others take their newest) / 规则集=版本",
)
def pin(  # noqa: PLR0917  click passes every option as an argument
    url: str,
    prefix: str,
    schema: str | None,
    campaign: str,
    office: str,
    actor: str,
    plugin_specs: tuple[str, ...],
    no_entry_points: bool,
    fingerprint: str | None,
    rule_sets: tuple[str, ...],
) -> None:
    """Pin the rule-set versions the campaign's new tasks take / 锁定创建活动新任务适用的政策版本。

    Open tasks keep their policy until `campaignflow policy migrate` moves them.
    已有的未结任务仍按原政策办理，须用 migrate 明确迁移。
    """
    versions = _versions(rule_sets, "--rule-set")
    with _engine(url, prefix, schema, _plugins(plugin_specs), not no_entry_points) as engine:
        pinned = engine.pin_policy(
            campaign, by=Actor(actor, office, Role.OFFICE), rule_sets=versions, fingerprint=fingerprint
        )
    out = Console(soft_wrap=True)
    out.print(Text(f"已锁定创建活动 {campaign} 的政策 / pinned the policy of {campaign}"))
    out.print(_policy_table(pinned))


def _report_table(report: MigrationReport) -> Table:
    title = "迁移预演 / dry run" if report.dry_run else "已迁移 / migrated"
    table = Table(
        "任务 task",
        "状态 state",
        "原指纹 from",
        "新增规则 newly applying",
        "不再适用 no longer applying",
        "将不符合 would fail",
        "已迁移 moved",
        title=f"{title}：{report.campaign} → {report.to_fingerprint}",
    )
    for item in report.tasks:
        table.add_row(
            item.task_id,
            item.state.value,
            item.from_fingerprint,
            "、".join(item.newly_applying) or "—",
            "、".join(item.no_longer_applying) or "—",
            "；".join(f"{m.code}：{m.message_zh}" for m in item.would_fail) or "—",
            "是 yes" if item.moved else "否 no",
        )
    return table


@policy.command("migrate")
@_options
@click.option(
    "--to",
    "targets",
    multiple=True,
    help="ID=VERSION the tasks move to (repeatable; others take their newest) / 迁移到的规则集版本",
)
@click.option("--dry-run", is_flag=True, help="report only, change nothing / 只预演，不改动")
@click.option("--apply", "apply_", is_flag=True, help="move the tasks, all or none / 执行迁移（全部或全不）")
def migrate(  # noqa: PLR0917  click passes every option as an argument
    url: str,
    prefix: str,
    schema: str | None,
    campaign: str,
    office: str,
    actor: str,
    plugin_specs: tuple[str, ...],
    no_entry_points: bool,
    fingerprint: str | None,
    targets: tuple[str, ...],
    dry_run: bool,
    apply_: bool,
) -> None:
    """Move the campaign's open tasks to other rule-set versions / 将创建活动的未结任务迁移到其他政策版本。

    --dry-run reports, per task, the rules that newly apply, those that no longer do and what the
    new rules find wrong in the steps it already took; --apply moves them.
    --dry-run 逐项列出新增规则、不再适用的规则及已办环节将不符合之处；--apply 执行迁移。
    """
    if dry_run == apply_:
        raise click.UsageError("give --dry-run or --apply / 须指定 --dry-run 或 --apply 之一")
    versions = _versions(targets, "--to")
    if (versions is None) == (fingerprint is None):
        raise click.UsageError(
            "give --to ID=VERSION … or --fingerprint FP / 须指定 --to 或 --fingerprint 之一"
        )
    target: Mapping[str, int] | str = versions if versions is not None else str(fingerprint)
    with _engine(url, prefix, schema, _plugins(plugin_specs), not no_entry_points) as engine:
        report = engine.migrate_tasks(
            campaign, to=target, by=Actor(actor, office, Role.OFFICE), dry_run=dry_run
        )
    out = Console(soft_wrap=True)
    out.print(_report_table(report))
    failing = len(report.failing)
    if dry_run:
        summary = f"预演：{len(report.tasks)} 项未结任务，{failing} 项将不符合新规则，未作任何改动"
        english = (
            f"dry run: {len(report.tasks)} open tasks, {failing} would fail the new rules, nothing changed"
        )
    else:
        summary = f"已迁移 {len(report.moved)} 项任务（{failing} 项不符合新规则，已在历史中记录）"
        english = f"moved {len(report.moved)} tasks ({failing} fail the new rules, recorded in their history)"
    out.print(Text(f"{summary} / {english}"))
    if dry_run and failing:
        # A script can gate ``--apply`` on the rehearsal: 3 means some task would fail the new rules.
        raise SystemExit(WOULD_FAIL)
