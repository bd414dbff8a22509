"""Campaign structure on the Engine: campaigns and indicator trees, grids and sites, the unit
hierarchy's subtrees, office scopes, and who is responsible for a place (属地管理, then 职能).

Mixed into :class:`campaignflow.Engine`; see docs/campaigns.md. The rules:

- **Indicator tree.** A task assigned under a *registered* campaign must name an indicator of its
  tree (rule ``indicator_in_tree``). A campaign nobody registered works as before: any indicator.
- **Office scope.** An office unit with scope rows (:meth:`set_office_scopes`) acts only on tasks
  of the campaigns and unit subtrees those rows name (``out_of_scope``); an office unit without any
  scope row acts everywhere, as before.
- **Separation across the subtree.** A campaign with ``separation="subtree"`` forbids an inspector
  of any unit *above* the responsible unit to verify it (``separation_subtree``), on top of the core
  rule that the unit itself may not.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campaignflow.domain.roles import PERMISSIONS, Actor, Role, scope_problem
from campaignflow.domain.structure import (
    Campaign,
    Grid,
    Indicator,
    OfficeScope,
    Responsibility,
    Site,
    check_indicator_tree,
    lineage,
    unit_cycle,
)
from campaignflow.engineparts import EngineParts
from campaignflow.errors import (
    FileProblem,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StructureFileError,
    UnitCycle,
)
from campaignflow.store.structure import StructureStore
from campaignflow.structurefiles import StructureFile, read_structure

if TYPE_CHECKING:
    import sqlalchemy as sa

    from campaignflow.domain.clock import Clock
    from campaignflow.domain.model import Task, Unit
    from campaignflow.store.repository import Repository
    from campaignflow.store.tables import Tables

__all__ = ["CampaignActions"]


def _instance(value: object, kind: type, name: str) -> Any:
    if not isinstance(value, kind):
        raise InvalidInput(f"{name} 必须是 {kind.__name__}", f"{name} must be a {kind.__name__}", field=name)
    return value


_READ: Any = object()
"""The campaign's separation of duties was not passed: read it."""


class CampaignActions(EngineParts):
    """Campaign structure: registration, lookups, scopes and the territorial rule."""

    if TYPE_CHECKING:
        tables: Tables
        clock: Clock
        _repo: Repository

    @functools.cached_property
    def _structure(self) -> StructureStore:
        return StructureStore(self.tables, self._direct)

    # --- campaigns and their indicator trees ----------------------------------------------------

    def register_campaign(
        self, campaign: Campaign, indicators: Sequence[Indicator] = (), *, connection: object | None = None
    ) -> Campaign:
        """Register (or replace) a campaign and its whole indicator tree, atomically. Every lead
        department must be a registered unit; codes are unique and every parent is in the tree."""
        _instance(campaign, Campaign, "campaign")
        items = tuple(_instance(i, Indicator, "indicators") for i in indicators)
        loaded = StructureFile(
            path=f"campaign {campaign.id}",
            campaign=campaign,
            indicators=items,
            rows={("indicators", item.code): n for n, item in enumerate(items, start=1)},
        )
        problems = [
            FileProblem("测评体系", index + 1, field, zh, en)
            for index, field, zh, en in check_indicator_tree(items)
        ]
        if problems:
            raise StructureFileError(loaded.path, problems)
        with self._tx(connection) as conn:
            self._load(conn, loaded)
        return campaign

    def campaign(self, campaign_id: str, *, connection: object | None = None) -> Campaign:
        """The registered campaign ``campaign_id``."""
        with self._tx(connection) as conn:
            found = self._structure.campaign(conn, campaign_id)
        if found is None:
            raise NotFound("campaign", campaign_id)
        return found

    def indicators(self, campaign_id: str, *, connection: object | None = None) -> list[Indicator]:
        """The campaign's indicator tree, in the order it was given (parents before children)."""
        with self._tx(connection) as conn:
            if self._structure.campaign(conn, campaign_id) is None:
                raise NotFound("campaign", campaign_id)
            return self._structure.indicators(conn, campaign_id)

    def indicator(self, campaign_id: str, code: str, *, connection: object | None = None) -> Indicator:
        """One indicator of a registered campaign's tree."""
        with self._tx(connection) as conn:
            found = self._structure.indicator(conn, campaign_id, code)
        if found is None:
            raise NotFound("indicator", f"{campaign_id}/{code}")
        return found

    # --- files -----------------------------------------------------------------------------------

    def load_structure(self, path: str | Path, *, connection: object | None = None) -> StructureFile:
        """Load a structure file (a campaign and its indicator tree, and/or units, grids, sites and
        office scopes; TOML, YAML or .xlsx) in one transaction: all of it, or nothing and a
        :class:`~campaignflow.errors.StructureFileError` naming every bad row and field."""
        loaded = read_structure(path)
        with self._tx(connection) as conn:
            self._load(conn, loaded)
        return loaded

    def _load(self, conn: sa.Connection, loaded: StructureFile) -> None:
        problems = self._problems(conn, loaded)
        if problems:
            raise StructureFileError(loaded.path, problems)
        now = self.clock.now()
        store = self._structure
        for unit in loaded.units:
            self._repo.save_unit(conn, unit, now)
        if loaded.campaign is not None:
            store.save_campaign(conn, loaded.campaign, loaded.indicators, now)
        store.save_grids(conn, loaded.grids, now)
        store.save_sites(conn, loaded.sites, now)
        for office in dict.fromkeys(s.office for s in loaded.scopes):
            store.replace_scopes(conn, office, [s for s in loaded.scopes if s.office == office], now)

    def _problems(self, conn: sa.Connection, loaded: StructureFile) -> list[FileProblem]:
        """What the file's rows get wrong against the database (and each other)."""
        store = self._structure
        parents = store.parents(conn)
        problems: list[FileProblem] = []
        for unit in loaded.units:  # the file's units first: later rows may name them
            cycle = unit_cycle(unit.id, unit.parent, {**parents, unit.id: unit.parent})
            if cycle is not None:
                sheet, row = loaded.where("units", unit.id)
                problems.append(
                    FileProblem(
                        sheet,
                        row,
                        "parent",
                        f"上下级关系成环：{' → '.join(cycle)}",
                        f"the hierarchy would loop: {' → '.join(cycle)}",
                    )
                )
            parents[unit.id] = unit.parent
        for unit in loaded.units:
            if unit.parent is not None and unit.parent not in parents:
                problems.append(self._unknown(loaded, "units", unit.id, "parent", unit.parent))
        return problems + self._place_problems(conn, loaded, parents)

    def _place_problems(
        self, conn: sa.Connection, loaded: StructureFile, parents: dict[str, str | None]
    ) -> list[FileProblem]:
        problems: list[FileProblem] = []
        grids = {g.id for g in loaded.grids}
        for item in loaded.indicators:
            if item.lead_unit is not None and item.lead_unit not in parents:
                problems.append(self._unknown(loaded, "indicators", item.code, "lead", item.lead_unit))
        for grid in loaded.grids:
            if grid.unit not in parents:
                problems.append(self._unknown(loaded, "grids", grid.id, "unit", grid.unit))
        for site in loaded.sites:
            if site.unit not in parents:
                problems.append(self._unknown(loaded, "sites", site.id, "unit", site.unit))
            if (
                site.grid is not None
                and site.grid not in grids
                and self._structure.grid(conn, site.grid) is None
            ):
                sheet, row = loaded.where("sites", site.id)
                problems.append(
                    FileProblem(
                        sheet,
                        row,
                        "grid",
                        f"网格 {site.grid} 未登记",
                        f"grid {site.grid!r} is not registered",
                    )
                )
        for scope in loaded.scopes:
            for field, value in (("office", scope.office), ("root", scope.root)):
                if value not in parents:
                    problems.append(self._unknown(loaded, "scopes", scope.office, field, value))
        return problems

    @staticmethod
    def _unknown(loaded: StructureFile, section: str, ident: str, field: str, unit: str) -> FileProblem:
        sheet, row = loaded.where(section, ident)
        return FileProblem(sheet, row, field, f"单位 {unit} 未登记", f"unit {unit!r} is not registered")

    # --- places ------------------------------------------------------------------------------------

    def register_places(
        self, *, grids: Sequence[Grid] = (), sites: Sequence[Site] = (), connection: object | None = None
    ) -> None:
        """Register (or update) grids (网格) and sites (点位), each mapped to its responsible unit."""
        loaded = StructureFile(
            path="places",
            grids=tuple(_instance(g, Grid, "grids") for g in grids),
            sites=tuple(_instance(s, Site, "sites") for s in sites),
            rows={
                **{("grids", g.id): n for n, g in enumerate(grids, start=1)},
                **{("sites", s.id): n for n, s in enumerate(sites, start=1)},
            },
        )
        with self._tx(connection) as conn:
            self._load(conn, loaded)

    def site(self, site_id: str, *, connection: object | None = None) -> Site:
        with self._tx(connection) as conn:
            found = self._structure.site(conn, site_id)
        if found is None:
            raise NotFound("site", site_id)
        return found

    def grid(self, grid_id: str, *, connection: object | None = None) -> Grid:
        with self._tx(connection) as conn:
            found = self._structure.grid(conn, grid_id)
        if found is None:
            raise NotFound("grid", grid_id)
        return found

    # --- the hierarchy and scopes ------------------------------------------------------------------

    def subtree(self, unit_id: str, *, connection: object | None = None) -> list[str]:
        """``unit_id`` and every unit below it (区 → 街道 → 社区 → 单位), by id."""
        with self._tx(connection) as conn:
            found = self._structure.subtree(conn, unit_id)
        if not found:
            raise NotFound("unit", unit_id)
        return found

    def lineage(self, unit_id: str, *, connection: object | None = None) -> list[str]:
        """``unit_id`` and the units above it, nearest first."""
        with self._tx(connection) as conn:
            found = self._structure.lineage(conn, unit_id)
        if not found:
            raise NotFound("unit", unit_id)
        return found

    def set_office_scopes(
        self, office: str, scopes: Sequence[OfficeScope], *, connection: object | None = None
    ) -> None:
        """Replace what the office unit ``office`` administers (empty: unscoped again)."""
        items = tuple(_instance(s, OfficeScope, "scopes") for s in scopes)
        if any(s.office != office for s in items):
            raise InvalidInput(
                "管辖范围须属于该创建办", "every scope row must name this office", field="scopes"
            )
        with self._tx(connection) as conn:
            for unit in {office, *(s.root for s in items)}:
                if self._repo.unit(conn, unit) is None:
                    raise NotFound("unit", unit)
            self._structure.replace_scopes(conn, office, items, self.clock.now())

    def office_scopes(self, office: str, *, connection: object | None = None) -> list[OfficeScope]:
        with self._tx(connection) as conn:
            return self._structure.scopes(conn, office)

    def _check_parent(self, conn: sa.Connection, unit_id: str, parent: str | None) -> None:
        """Refuse a parent that would make the hierarchy loop (called by register_unit)."""
        if parent is None:
            return
        cycle = unit_cycle(unit_id, parent, self._structure.parents(conn))
        if cycle is not None:
            raise UnitCycle(cycle)

    def _scoped_unit(
        self, conn: sa.Connection, trigger: str, actor: Actor, campaign: str, unit: str | None
    ) -> Unit | None:
        """The registry's record of ``unit`` (None if blank or unknown), after :meth:`_check_scope`."""
        found = self._repo.unit(conn, unit.strip()) if unit and unit.strip() else None
        if found is not None:
            self._check_scope(conn, trigger, actor, campaign=campaign, unit=found.id)
        return found

    def _within_scope(
        self, triggers: set[str], actor: Actor, task: Task, connection: object | None
    ) -> frozenset[str]:
        """Those of ``triggers`` the actor's office scope and the campaign's separation allow."""
        allowed: set[str] = set()
        with self._tx(connection) as conn:
            for trigger in triggers:
                try:
                    self._check_scope(conn, trigger, actor, campaign=task.campaign, unit=task.unit)
                except PermissionDenied:
                    continue
                allowed.add(trigger)
        return frozenset(allowed)

    def _check_scope(
        self,
        conn: sa.Connection,
        trigger: str,
        actor: Actor,
        *,
        campaign: str,
        unit: str,
        separation: str | None = _READ,
        **context: Any,
    ) -> None:
        """PermissionDenied when the actor's office scope or the campaign's subtree separation
        forbids the action (after the role check passed). Costs one indexed read for office actions
        and verifications, one more (the unit's lineage) only when a scope or separation applies."""
        role, relation = PERMISSIONS[trigger]
        scopes = self._structure.scopes(conn, actor.unit) if role is Role.OFFICE else []
        if relation == "other" and separation is _READ:
            separation = self._structure.separation(conn, campaign)
        subtree = relation == "other" and separation == "subtree"
        if not scopes and not subtree:
            return
        chain = self._structure.lineage(conn, unit) or lineage(unit, {})
        problem = scope_problem(
            trigger,
            actor,
            campaign=campaign,
            unit=unit,
            lineage=chain,
            scopes=scopes,
            subtree_separation=subtree,
        )
        if problem is not None:
            code, zh, en = problem
            raise PermissionDenied(zh, en, code=code, trigger=trigger, actor=actor.id, **context)

    # --- who is responsible ------------------------------------------------------------------------

    def responsible_unit(
        self,
        campaign: str,
        *,
        site: str | None = None,
        grid: str | None = None,
        indicator: str | None = None,
        connection: object | None = None,
    ) -> Responsibility:
        """属地管理 first: the unit responsible for ``site`` (a registered 点位), else for ``grid``
        (the site's own grid when the site names one); then 职能管理: the lead department of the
        campaign's ``indicator``. :class:`~campaignflow.errors.NotFound` when none applies."""
        with self._tx(connection) as conn:
            return self._responsible(conn, campaign, site=site, grid=grid, indicator=indicator)

    def _responsible(
        self, conn: sa.Connection, campaign: str, *, site: str | None, grid: str | None, indicator: str | None
    ) -> Responsibility:
        store = self._structure
        if site is not None:
            found = store.site(conn, site)
            if found is not None:
                return Responsibility(
                    found.unit,
                    "site",
                    f"属地管理：点位“{found.name}”（{found.id}）由 {found.unit} 负责",
                    f"territorial: site {found.id!r} ({found.name}) belongs to {found.unit!r}",
                )
            grid = grid or None
        if grid is not None:
            found_grid = store.grid(conn, grid)
            if found_grid is not None:
                return Responsibility(
                    found_grid.unit,
                    "grid",
                    f"属地管理：网格“{found_grid.name}”（{found_grid.id}）由 {found_grid.unit} 负责",
                    f"territorial: grid {found_grid.id!r} ({found_grid.name}) belongs to {found_grid.unit!r}",
                )
        if indicator is not None:
            item = store.indicator(conn, campaign, indicator)
            if item is not None and item.lead_unit is not None:
                return Responsibility(
                    item.lead_unit,
                    "lead",
                    f"职能管理：指标 {item.code}“{item.name}”的牵头单位是 {item.lead_unit}",
                    f"functional: {item.lead_unit!r} leads indicator {item.code} ({item.name})",
                )
        raise NotFound("responsible unit", f"{campaign}: site={site} grid={grid} indicator={indicator}")
