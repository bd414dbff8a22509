"""The demo campaign behind ``campaignflow demo``: a dozen 创卫 tasks through every path.

It runs on a fixed clock (:data:`~campaignflow.testing.DEMO_NOW`, moved forward between steps), so
what it prints is byte-identical on any day and any machine: task ids are random and never shown.
A fresh SQLite file is created each run; the file is stamped with a SQLite ``application_id`` so a
later run only ever overwrites a demo database, never some other file at that path.

Call :func:`run_demo` from code or tests; the command line only picks the path and the console.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType

import attrs
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from rich.text import Text

from campaignflow.bulletin import build_bulletin, write_bulletin
from campaignflow.domain.model import (
    Deployment,
    Evidence,
    Inspection,
    Person,
    Plan,
    PlanStep,
    Task,
    TaskState,
)
from campaignflow.domain.notifications import EVENT_ZH
from campaignflow.domain.roles import Actor, Role
from campaignflow.domain.scoring import Period
from campaignflow.engine import Engine
from campaignflow.errors import ActionRefused, InvalidInput, RuleViolation
from campaignflow.testing import CITY_UNITS, DEMO_NOW, FixedClock, seed_units

__all__ = ["CAMPAIGN", "DEMO_APPLICATION_ID", "DemoResult", "run_demo"]

CAMPAIGN = "2026创卫"
DEMO_APPLICATION_ID = 0x43464430
"""SQLite ``PRAGMA application_id`` ("CFD0") that marks a file as a campaignflow demo database."""

_SQLITE_MAGIC = b"SQLite format 3\x00"

# (actor id, name, unit, role): the people of the demo, over the units of CITY_UNITS.
_PEOPLE: tuple[tuple[str, str, str, Role], ...] = (
    ("zhou", "周敏", "cwb", Role.OFFICE),  # 创卫办 liaison: assigns, reassigns, cancels, archives
    ("xu", "徐强", "cwb", Role.INSPECTOR),  # 创卫办 督查组
    ("chen", "陈静", "wsj", Role.INSPECTOR),  # 卫生局 inspector
    ("gao", "高峰", "cgj", Role.INSPECTOR),  # 城管局's own inspector: may not verify 城管局's tasks
    ("liu", "刘洋", "cgj", Role.UNIT),
    ("ma", "马涛", "wsj", Role.UNIT),
    ("sun", "孙丽", "jd-cg", Role.UNIT),
    ("wu", "吴芳", "sq-ft", Role.UNIT),
)


# ((key, unit, days to the deadline, indicator, kind), title, standard, measures): the tasks the
# office assigns, titles from 创卫 inspection reports. The key names a task in the story below.
_TASKS: tuple[tuple[tuple[str, str, int, str, str], str, str, tuple[str, ...]], ...] = (
    (
        ("bulletin_dates", "jd-cg", 30, "A4.3", "health_education.bulletin_board"),
        "宣传栏内容未标明日期、未留底稿",
        "宣传栏内容两月一换，每期标明日期并留存底稿，有档可查",
        ("每期内容标注更换日期", "拍照留底并归入健康教育档案"),
    ),
    (
        ("bulletin_area", "sq-ft", 14, "A4.2", "health_education.bulletin_board"),
        "宣传栏面积达不到3平方米",
        "社区健康教育宣传栏面积不少于3平方米，设在居民经过的醒目位置",
        ("扩建宣传栏至3平方米以上", "首期内容上墙并标明日期"),
    ),
    (
        ("archive_files", "wsj", 10, "A4.1", "health_education.dossier"),
        "健康教育资料未归档",
        "健康教育资料分类齐全，按年度和指标归档立卷，建立专卷",
        ("收集近两年健康教育资料", "按年度、指标分类立卷"),
    ),
    (
        ("blind_spot", "cgj", 15, "B3.2", "sanitation.blind_spot"),
        "背街小巷卫生死角",
        "背街小巷无积存垃圾、无卫生死角",
        ("每日巡查", "发现即清", "建立长效保洁制度"),
    ),
    (
        ("graffiti", "cgj", 15, "B2.4", "order.graffiti"),
        "临街商铺门窗乱贴乱画",
        "商铺门窗、墙面无乱贴乱画、无违规广告",
        ("清理门窗小广告", "与商铺签订门前五包责任书"),
    ),
    (
        ("bait_stations", "sq-ft", 20, "C1.3", "vector_control.bait_station"),
        "居民小区毒饵站数量不足",
        "居民小区按标准设置毒饵站，定期投药并登记",
        ("补设毒饵站", "建立投药登记台账"),
    ),
    (
        ("network_chart", "jd-cg", 10, "A4.1", "health_education.network"),
        "健康教育四级网络图未上墙",
        "区、街道、社区、单位四级网络图上墙公示",
        ("绘制四级网络图", "在社区服务站上墙公示"),
    ),
    (
        ("network", "jd-cg", 20, "A4.1", "health_education.network"),
        "健康教育四级网络不完善",
        "区、街道、社区、单位四级网络健全，职责明确，网络图上墙",
        ("明确各级专兼职人员", "绘制并公示四级网络图"),
    ),
    (
        ("survey", "wsj", 30, "A4.4", "health_education.survey"),
        "居民健康教育知识问卷调查未开展",
        "每季度开展一次问卷调查，有问卷记录和调查分析报告",
        ("设计调查问卷", "入户调查不少于100户", "撰写调查分析报告"),
    ),
    (
        ("market", "cgj", 20, "B4.1", "sanitation.market"),
        "农贸市场环境卫生整治",
        "农贸市场地面无积水、无垃圾，功能分区明确，设施完好",
        ("划行归市", "每日清扫冲洗", "修缮排水设施"),
    ),
    (
        ("latrines", "cgj", 45, "B5.1", "sanitation.latrine"),
        "城区旱厕改造",
        "城区旱厕全部改造为水冲式公厕",
        ("摸底登记旱厕位置", "分批改造", "改造后验收移交"),
    ),
    (
        ("riverside", "cgj", 30, "B3.4", "sanitation.riverside"),
        "河道沿线环境卫生整治",
        "河道沿线无垃圾、无漂浮物、无乱堆乱放",
        ("清理河道两岸垃圾", "设置保洁责任区"),
    ),
)


@attrs.frozen(kw_only=True)
class DemoResult:
    """What the demo left in its database."""

    tasks: int
    """Tasks created (a refused assignment creates none)."""
    counts: Mapping[TaskState, int]
    """Tasks per state, every state present (zero where none)."""
    refused: int
    """Actions refused on the way (四有四定 rules and permissions); none of them wrote anything."""
    reworks: int
    """Failed verifications, summed over all tasks."""
    notifications: int
    """Outbox rows written (one per recipient of each step)."""
    intact_chains: int
    """Tasks whose hash-chained history verified intact (all of them, unless something is wrong)."""


def _application_id(path: Path) -> int | None:
    """The ``application_id`` in a SQLite file's header, or None if it is not a SQLite database."""
    with path.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        return None
    return int.from_bytes(header[68:72], "big", signed=True)


def _replaceable(path: Path) -> bool:
    """Whether the existing ``path`` is an empty file or an earlier demo database."""
    return path.is_file() and (path.stat().st_size == 0 or _application_id(path) == DEMO_APPLICATION_ID)


def _fresh_database(db_path: str) -> Path:
    """Remove a previous demo database at ``db_path`` and create an empty, stamped one."""
    path = Path(db_path)
    if not path.parent.is_dir():
        raise InvalidInput(
            f"目录 {str(path.parent)!r} 不存在", f"directory {str(path.parent)!r} does not exist", field="db"
        )
    if (path.exists() or path.is_symlink()) and not _replaceable(path):
        raise InvalidInput(
            f"{db_path!r} 不是 campaignflow 演示数据库，拒绝覆盖；请另选路径",
            f"{db_path!r} is not a campaignflow demo database; refusing to overwrite it, choose another path",
            field="db",
        )
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"PRAGMA application_id = {DEMO_APPLICATION_ID}")
        conn.commit()
    finally:
        conn.close()
    return path


def _last_day(task: Task, engine: Engine) -> date:
    """The last calendar day of the task's deadline (a date deadline ends at the next midnight)."""
    return (task.deadline - timedelta(microseconds=1)).astimezone(engine.timezone).date()


class _Demo:
    """One run: the engine on its fixed clock, the people, and the console it narrates to."""

    def __init__(self, engine: Engine, clock: FixedClock, console: Console) -> None:
        self.engine = engine
        self.clock = clock
        self.console = console
        self.actors = {pid: Actor(pid, unit, role) for pid, _name, unit, role in _PEOPLE}
        self.names = {pid: name for pid, name, _unit, _role in _PEOPLE}
        self.unit_names = {uid: name for uid, name, _leader, _parent, _liaison in CITY_UNITS}
        self.tasks: dict[str, str] = {}  # short key -> task id, in the order assigned
        self.refused = 0

    # --- narration --------------------------------------------------------------------------

    def say(self, text: str, style: str | None = None) -> None:
        self.console.print(Text(text, style=style or ""))

    def line(self, left: str, text: str, style: str | None = None) -> None:
        """A log line: the time in a fixed column, the text wrapping beside it."""
        grid = Table.grid(padding=(0, 2))
        grid.add_column(width=11, no_wrap=True, style="dim")
        grid.add_column(overflow="fold")
        grid.add_row(left, Text(text, style=style or ""))
        self.console.print(grid)

    def scene(self, title: str) -> None:
        self.console.print()
        self.console.rule(Text(title, style="bold"))

    def at(self) -> str:
        return self.clock.now().astimezone(self.engine.timezone).strftime("%m-%d %H:%M")

    def step(self, text: str) -> None:
        self.line(self.at(), text)

    def who(self, actor_id: str) -> str:
        return f"{self.names[actor_id]}（{self.unit_names[self.actors[actor_id].unit]}）"

    def title(self, key: str) -> str:
        return f"「{self.engine.get(self.tasks[key]).title}」"

    def refusal(self, who: str, action: str, error: ActionRefused) -> None:
        self.refused += 1
        self.step(f"{who}{action}：被拒绝 [{error.code}]")
        if isinstance(error, RuleViolation):
            for item in error.missing:
                self.line("", f"• {item.code:<26} {item.rule}：{item.message_zh}", "red")
        else:
            self.line("", f"• {error.message_zh}", "red")
        self.line("", "（未写入任何数据：状态、历史、通知均未改变）", "dim")

    def later(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))

    def day(self, days: int, hour: int, minute: int = 0) -> None:
        """Move the clock forward to ``hour:minute`` of the ``days``-th day after DEMO_NOW."""
        target = datetime.combine(DEMO_NOW.date() + timedelta(days=days), time(hour, minute), DEMO_NOW.tzinfo)
        delta = target - self.clock.now()
        assert delta >= timedelta(0), f"the demo clock only moves forward, not to {target}"
        self.clock.advance(delta)

    # --- building blocks --------------------------------------------------------------------

    def assign(
        self,
        key: str,
        *,
        title: str,
        standard: str,
        measures: Sequence[str],
        unit: str,
        days: int,
        indicator: str,
        kind: str,
    ) -> Task:
        due = self.clock.now().astimezone(self.engine.timezone).date() + timedelta(days=days)
        task = self.engine.assign(
            by=self.actors["zhou"],
            title=title,
            standard=standard,
            measures=measures,
            unit=unit,
            due=due,
            campaign=CAMPAIGN,
            indicator=indicator,
            kind=kind,
        )
        self.tasks[key] = task.id
        self.step(
            f"{self.who('zhou')}交办「{title}」给{self.unit_names[unit]}"
            f"（责任领导{task.leader}，完成时限{_last_day(task, self.engine)}）"
        )
        self.later(minutes=5)
        return task

    def plan(self, key: str, steps: Sequence[str]) -> Plan:
        """A plan whose milestones are spread evenly up to the deadline's last day."""
        task = self.engine.get(self.tasks[key])
        first = self.clock.now().astimezone(self.engine.timezone).date()
        span = (_last_day(task, self.engine) - first).days
        return Plan(
            [
                PlanStep(text, first + timedelta(days=span * (i + 1) // len(steps)))
                for i, text in enumerate(steps)
            ]
        )

    def start(self, key: str, by: str, steps: Sequence[str], people: Sequence[tuple[str, str]]) -> None:
        deployment = Deployment([Person(name, duty) for name, duty in people])
        self.engine.start(
            self.tasks[key], by=self.actors[by], plan=self.plan(key, steps), deployment=deployment
        )
        self.step(f"{self.who(by)}开始整改{self.title(key)}：计划{len(steps)}步，布置{len(people)}人")

    def evidence(self, key: str, by: str, what: str, n: int) -> Evidence:
        digest = hashlib.sha256(f"{key}/{n}/{what}".encode()).hexdigest()
        return Evidence(
            kind="photo",
            uri=f"evidence://demo/{key}/{n}.jpg",
            sha256=digest,
            taken_at=self.clock.now(),
            taken_by=self.names[by],
            note=what,
        )

    def self_check(self, key: str, by: str, report: str, evidence: Sequence[str], round_: int = 1) -> None:
        items = [self.evidence(key, by, what, round_ * 10 + i) for i, what in enumerate(evidence)]
        self.engine.submit_self_check(self.tasks[key], by=self.actors[by], report=report, evidence=items)
        self.step(f"{self.who(by)}提交自查{self.title(key)}：{report}（佐证材料{len(items)}项）")

    def inspection(self, by: str, conclusion: str) -> Inspection:
        return Inspection(
            inspector=self.names[by],
            inspector_unit=self.actors[by].unit,
            inspected_at=self.clock.now(),
            conclusion=conclusion,
        )

    def pass_(self, key: str, by: str, conclusion: str) -> None:
        self.engine.pass_verification(
            self.tasks[key], by=self.actors[by], inspection=self.inspection(by, conclusion)
        )
        self.step(f"{self.who(by)}验收通过{self.title(key)}：{conclusion}")

    def fail(self, key: str, by: str, reason: str) -> None:
        task = self.engine.fail_verification(
            self.tasks[key], by=self.actors[by], reason=reason, inspection=self.inspection(by, "不符合标准")
        )
        self.step(f"{self.who(by)}验收不通过{self.title(key)}：{reason}（返工第{task.rework_count}次）")

    def archive(self, key: str) -> None:
        self.engine.archive(self.tasks[key], by=self.actors["zhou"])
        self.step(f"{self.who('zhou')}归档立卷{self.title(key)}")

    # --- the story --------------------------------------------------------------------------

    def run(self) -> None:
        self.units()
        self.assignments()
        self.rectification()
        self.verification()
        self.side_flows()

    def units(self) -> None:
        self.scene("一、登记责任单位")
        seed_units(self.engine)
        table = Table(title="单位名录")
        for header in ("编号", "单位", "上级单位", "责任领导", "联络员"):
            table.add_column(header, overflow="fold")
        for unit in self.engine.units():
            parent = self.unit_names.get(unit.parent or "", "—")
            table.add_row(unit.id, unit.name, parent, unit.leader, unit.liaison)
        self.console.print(table)

    def assignments(self) -> None:
        self.scene("二、交办任务（四有四定：定任务、定部门、定领导、定进度）")
        yesterday = self.clock.now().astimezone(self.engine.timezone).date() - timedelta(days=1)
        try:
            self.engine.assign(
                by=self.actors["zhou"],
                title="宣传栏内容未标明日期、未留底稿",
                standard=" ",
                measures=[],
                unit="xcb",
                due=yesterday,
                campaign=CAMPAIGN,
                indicator="A4.3",
                kind="health_education.bulletin_board",
            )
        except RuleViolation as error:
            self.refusal(
                self.who("zhou"),
                "交办「宣传栏内容未标明日期、未留底稿」（无标准、无措施、单位未登记、时限已过）",
                error,
            )
        self.later(minutes=5)
        for (key, unit, days, indicator, kind), title, standard, measures in _TASKS:
            self.assign(
                key,
                title=title,
                standard=standard,
                measures=measures,
                unit=unit,
                days=days,
                indicator=indicator,
                kind=kind,
            )

    def rectification(self) -> None:
        self.scene("三、整改（有计划、有布置、有整改）")
        self.day(1, 9)
        reason = "属地管理：商铺位于城关街道辖区"
        task = self.engine.reassign(
            self.tasks["graffiti"], by=self.actors["zhou"], unit="jd-cg", reason=reason
        )
        self.step(
            f"{self.who('zhou')}改派{self.title('graffiti')}给{self.unit_names[task.unit]}"
            f"（责任领导{task.leader}）：{reason}"
        )
        self.later(minutes=30)
        try:
            self.engine.start(
                self.tasks["bait_stations"],
                by=self.actors["wu"],
                plan=Plan([]),
                deployment=Deployment([Person(" ")]),
            )
        except RuleViolation as error:
            self.refusal(
                self.who("wu"), f"开始整改{self.title('bait_stations')}（计划无步骤、人员未具名）", error
            )
        self.later(minutes=10)
        self.start(
            "bait_stations",
            "wu",
            ["排查小区鼠迹", "补设毒饵站20个", "建立投药登记"],
            [("吴芳", "现场负责人")],
        )
        self.later(minutes=30)
        try:
            self.engine.start(
                self.tasks["network"],
                by=self.actors["liu"],
                plan=self.plan("network", ["明确专兼职人员"]),
                deployment=Deployment([Person("刘洋")]),
            )
        except ActionRefused as error:
            self.refusal(self.who("liu"), f"开始整改{self.title('network')}（不是本单位的任务）", error)
        self.later(minutes=10)
        self.start("network", "sun", ["明确专兼职人员", "绘制并公示四级网络图"], [("孙丽", "联络员")])
        self.later(minutes=20)
        self.start("bulletin_area", "wu", ["选址扩建宣传栏", "首期内容上墙"], [("吴芳", "现场负责人")])
        self.later(minutes=20)
        self.start("archive_files", "ma", ["收集整理资料", "分类立卷"], [("马涛", "档案整理")])
        self.later(minutes=20)
        self.start(
            "blind_spot",
            "liu",
            ["全面排查背街小巷", "清运积存垃圾", "建立长效保洁制度"],
            [("刘洋", "现场负责人"), ("环卫一中队", "清运")],
        )
        self.later(minutes=20)
        self.start("market", "liu", ["划行归市", "修缮排水设施"], [("刘洋", "现场负责人")])
        self.later(minutes=20)
        self.start("latrines", "liu", ["摸底登记", "分批改造", "验收移交"], [("刘洋", "项目负责人")])
        self.later(minutes=20)
        self.start("riverside", "liu", ["清理两岸垃圾", "划定保洁责任区"], [("刘洋", "现场负责人")])
        self.later(minutes=20)
        self.start("graffiti", "sun", ["清理小广告", "签订门前五包责任书"], [("孙丽", "联络员")])

        self.day(6, 11)
        self.self_check(
            "bulletin_area", "wu", "宣传栏已扩建至3.6平方米", ["扩建后宣传栏照片", "面积测量记录"]
        )
        self.later(minutes=30)
        self.self_check("archive_files", "ma", "资料已分类立卷", ["专卷目录", "归档资料照片"])
        self.later(minutes=30)
        self.self_check("blind_spot", "liu", "背街小巷已全面清理", ["清理前后对比照片"])
        self.later(minutes=30)
        self.self_check("market", "liu", "市场已划行归市、排水修缮完毕", ["市场全景照片", "排水改造记录"])
        self.later(minutes=30)
        self.self_check("latrines", "liu", "首批旱厕改造完成", ["改造后公厕照片"])
        self.later(minutes=30)
        self.self_check("bait_stations", "wu", "已补设毒饵站20个", ["毒饵站照片", "投药登记表"])

    def verification(self) -> None:
        self.scene("四、验收与归档（有检查；责任单位不能验收自己的任务）")
        self.day(8, 9)
        self.pass_("bulletin_area", "chen", "宣传栏面积3.6平方米，符合标准")
        self.later(minutes=30)
        self.pass_("archive_files", "xu", "专卷齐全，有档可查")
        self.later(minutes=30)
        self.fail("blind_spot", "chen", "幸福巷东段仍有积存垃圾")
        self.later(minutes=30)
        try:
            self.engine.pass_verification(
                self.tasks["market"],
                by=self.actors["gao"],
                inspection=self.inspection("gao", "符合标准"),
            )
        except ActionRefused as error:
            self.refusal(
                self.who("gao"), f"验收{self.title('market')}（本单位督查员验收本单位的任务）", error
            )
        self.later(minutes=10)
        self.pass_("market", "chen", "地面干净，分区明确")
        self.later(minutes=30)
        try:
            self.engine.fail_verification(self.tasks["latrines"], by=self.actors["chen"], reason="")
        except RuleViolation as error:
            self.refusal(self.who("chen"), f"验收不通过{self.title('latrines')}（未说明理由）", error)
        self.later(minutes=10)
        self.fail("latrines", "chen", "第二批旱厕尚未开工")

        self.day(10, 10)
        self.self_check(
            "blind_spot", "liu", "幸福巷东段已清理，保洁责任到人", ["复查前照片", "保洁排班表"], 2
        )
        self.day(11, 10)
        self.pass_("blind_spot", "chen", "复查合格")
        self.later(hours=2)
        self.archive("bulletin_area")
        self.later(minutes=10)
        self.archive("archive_files")
        self.later(minutes=10)
        self.archive("blind_spot")

    def side_flows(self) -> None:
        self.scene("五、撤销")
        self.day(11, 15)
        reason = "重复交办：已并入「健康教育四级网络不完善」任务"
        self.engine.cancel(self.tasks["network_chart"], by=self.actors["zhou"], reason=reason)
        self.step(f"{self.who('zhou')}撤销{self.title('network_chart')}：{reason}")

    # --- the ledger -------------------------------------------------------------------------

    def summary(self) -> DemoResult:
        self.scene("六、任务台账")
        tasks = [self.engine.get(task_id) for task_id in self.tasks.values()]
        ledger = Table(title=f"{CAMPAIGN} 任务台账（截至 {self.at()}）")
        ledger.add_column("任务", overflow="fold")
        ledger.add_column("责任单位", overflow="fold")
        ledger.add_column("状态")
        ledger.add_column("返工次数", justify="right")
        ledger.add_column("完成时限")
        for task in tasks:
            ledger.add_row(
                task.title,
                self.unit_names[task.unit],
                task.state.label_zh,
                str(task.rework_count),
                _last_day(task, self.engine).isoformat(),
            )
        self.console.print(ledger)

        counts = {state: sum(1 for t in tasks if t.state is state) for state in TaskState}
        by_state = Table(title="各状态任务数")
        by_state.add_column("状态")
        by_state.add_column("任务数", justify="right")
        for state, count in counts.items():
            if count:  # states no demo task is in (退回, 挂起) stay out of the table
                by_state.add_row(state.label_zh, str(count))
        by_state.add_section()
        by_state.add_row("合计", str(len(tasks)))
        self.console.print(by_state)

        notifications = sum(len(self.engine.notifications(t.id)) for t in tasks)
        intact = sum(1 for t in tasks if self.engine.verify_history(t.id) is None)
        reworks = sum(t.rework_count for t in tasks)
        self.history("blind_spot")
        self.say(f"被拒绝的操作 {self.refused} 次（均未写入任何数据）；返工 {reworks} 次")
        self.say(f"待发送通知（outbox）{notifications} 条")
        self.say(f"历史哈希链校验：{intact}/{len(tasks)} 个任务完整")
        return DemoResult(
            tasks=len(tasks),
            counts=MappingProxyType(counts),
            refused=self.refused,
            reworks=reworks,
            notifications=notifications,
            intact_chains=intact,
        )

    def bulletin(self, path: Path) -> None:
        """七、考核排名通报: this quarter's ranking under the built-in weighted scheme, written out."""
        self.scene("七、考核排名通报")
        day = self.clock.now().astimezone(self.engine.timezone).date()
        first = (day.month - 1) // 3 * 3 + 1
        start = date(day.year, first, 1)
        end = date(day.year + 1, 1, 1) if first == 10 else date(day.year, first + 3, 1)
        period = Period(f"{day.year}年第{(first + 2) // 3}季度", start, end)
        report = build_bulletin(self.engine, period, "weighted_rates", campaign=CAMPAIGN)
        table = Table(title=report.title)
        for header in ("名次", "责任单位", "得分", "应办结", "按期完成率", "红黑榜"):
            table.add_column(header, overflow="fold")
        for line in report.lines:
            mark = "红榜" if line.red else "黑榜" if line.black else ""
            table.add_row(
                str(line.rank), line.unit_name, str(line.points), str(line.due), line.on_time.percent(), mark
            )
        self.console.print(table)
        write_bulletin(report, path)
        self.say(f"通报（HTML）已写入 / bulletin written: {path}")

    def history(self, key: str) -> None:
        table = Table(title=f"{self.title(key)}的处理经过")
        for header in ("#", "时间", "操作人", "操作", "状态变化", "理由"):
            table.add_column(header, overflow="fold")
        for entry in self.engine.history(self.tasks[key]):
            before = TaskState(entry.from_state).label_zh if entry.from_state else "—"
            table.add_row(
                str(entry.seq),
                _local(entry.at, self.engine),
                self.names.get(entry.actor_id, entry.actor_id),
                EVENT_ZH.get(entry.trigger, entry.trigger),
                f"{before} → {TaskState(entry.to_state).label_zh}",
                entry.reason or "",
            )
        self.console.print(table)


def _local(moment: datetime, engine: Engine) -> str:
    return moment.astimezone(engine.timezone).strftime("%m-%d %H:%M")


def run_demo(db_path: str, console: Console, *, bulletin: str | Path | None = None) -> DemoResult:
    """Run the demo campaign into a fresh SQLite file at ``db_path``, narrating to ``console``;
    with ``bulletin``, end by writing the quarter's 考核排名通报 there (``.html`` or ``.xlsx``).

    Raises :class:`~campaignflow.errors.InvalidInput` (and touches nothing) if ``db_path`` holds a
    file that is not a campaignflow demo database.
    """
    path = _fresh_database(db_path)
    clock = FixedClock(DEMO_NOW)
    engine = Engine(sa.URL.create("sqlite", database=str(path)), clock=clock, load_entry_points=False)
    try:
        console.print(
            Text(
                f"campaignflow 演示：{CAMPAIGN}（固定时钟 {DEMO_NOW:%Y-%m-%d %H:%M}，{engine.timezone}）",
                style="bold",
            )
        )
        engine.migrate()
        demo = _Demo(engine, clock, console)
        demo.run()
        result = demo.summary()
        if bulletin is not None:
            demo.bulletin(Path(bulletin))
        return result
    finally:
        engine.close()
