"""Reads and writes a campaign's structure: campaigns, indicator trees, grids, sites, office scopes,
and the unit hierarchy's lineages and subtrees (recursive CTEs, on SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa

from campaignflow.domain.structure import Campaign, Grid, Indicator, OfficeScope, Site
from campaignflow.store.direct import Direct
from campaignflow.store.tables import Tables

__all__ = ["MAX_DEPTH", "StructureStore"]

MAX_DEPTH = 32  # a deeper unit hierarchy is a data error (the four-level network is 区-街道-社区-单位)


class StructureStore:
    """The structure tables on a connection the caller manages (statements built once)."""

    def __init__(self, tables: Tables, direct: Direct) -> None:
        """``direct`` runs the lookups an action makes (store/direct.py)."""
        self.tables = tables
        self.direct = direct
        c, i, g, s, o = tables.campaigns, tables.indicators, tables.grids, tables.sites, tables.office_scopes
        self._campaign = sa.select(c).where(c.c.id == sa.bindparam("id"))
        self._indicator = sa.select(i).where(
            i.c.campaign == sa.bindparam("campaign"), i.c.code == sa.bindparam("code")
        )
        self._indicators = sa.select(i).where(i.c.campaign == sa.bindparam("campaign")).order_by(i.c.position)
        # One round trip for the assign rule: is the campaign registered, and is the code in its tree?
        self._known = (
            sa.select(c.c.id, i.c.code)
            .select_from(c.outerjoin(i, sa.and_(i.c.campaign == c.c.id, i.c.code == sa.bindparam("code"))))
            .where(c.c.id == sa.bindparam("campaign"))
        )
        self._separation = sa.select(c.c.separation).where(c.c.id == sa.bindparam("id"))
        self._support_parts = sa.select(c.c.require_support_parts).where(c.c.id == sa.bindparam("id"))
        self._site = sa.select(s).where(s.c.id == sa.bindparam("id"))
        self._grid = sa.select(g).where(g.c.id == sa.bindparam("id"))
        self._scopes = (
            sa.select(o).where(o.c.office == sa.bindparam("office")).order_by(o.c.campaign, o.c.root)
        )
        u = tables.units
        up = sa.select(u.c.id, u.c.parent, sa.literal(0).label("depth")).where(u.c.id == sa.bindparam("unit"))
        up_cte = up.cte("lineage", recursive=True)
        step = sa.select(u.c.id, u.c.parent, (up_cte.c.depth + 1).label("depth")).where(
            u.c.id == up_cte.c.parent, up_cte.c.depth < MAX_DEPTH
        )
        up_cte = up_cte.union_all(step)
        self._lineage = sa.select(up_cte.c.id).order_by(up_cte.c.depth)
        down = sa.select(u.c.id, sa.literal(0).label("depth")).where(u.c.id == sa.bindparam("root"))
        down_cte = down.cte("subtree", recursive=True)
        below = sa.select(u.c.id, (down_cte.c.depth + 1).label("depth")).where(
            u.c.parent == down_cte.c.id, down_cte.c.depth < MAX_DEPTH
        )
        down_cte = down_cte.union_all(below)
        self._subtree = sa.select(down_cte.c.id).distinct().order_by(down_cte.c.id)
        t = tables.tasks
        self._last_archived = (
            sa.select(t.c.id, t.c.updated_at, t.c.recurrence_count)
            .where(
                t.c.campaign == sa.bindparam("campaign"),
                t.c.site == sa.bindparam("site"),
                t.c.indicator == sa.bindparam("indicator"),
                t.c.state == "archived",
            )
            .order_by(t.c.updated_at.desc(), t.c.id.desc())
            .limit(1)
        )

    # --- campaigns and indicators ----------------------------------------------------------------

    def save_campaign(
        self, conn: sa.Connection, campaign: Campaign, indicators: Sequence[Indicator], now: datetime
    ) -> None:
        """Insert or replace the campaign and its whole indicator tree (the caller's transaction)."""
        c, i = self.tables.campaigns, self.tables.indicators
        values = {
            "name": campaign.name,
            "kind": campaign.kind,
            "periods": list(campaign.periods),
            "separation": campaign.separation.value,
            "recurrence_days": campaign.recurrence_days,
            "require_support_parts": campaign.require_support_parts,
            "updated_at": now,
        }
        if conn.execute(c.update().where(c.c.id == campaign.id).values(values)).rowcount == 0:
            conn.execute(c.insert().values(id=campaign.id, created_at=now, **values))
        conn.execute(i.delete().where(i.c.campaign == campaign.id))
        if indicators:
            conn.execute(
                i.insert(),
                [
                    {
                        "campaign": campaign.id,
                        "code": item.code,
                        "parent": item.parent_code,
                        "name": item.name,
                        "standard": item.standard,
                        "weight": item.weight,
                        "lead_unit": item.lead_unit,
                        "position": position,
                    }
                    for position, item in enumerate(indicators)
                ],
            )

    def campaign(self, conn: sa.Connection, campaign_id: str) -> Campaign | None:
        row = conn.execute(self._campaign, {"id": campaign_id}).mappings().first()
        if row is None:
            return None
        return Campaign(
            id=row["id"],
            name=row["name"],
            kind=row["kind"],
            periods=row["periods"],
            separation=row["separation"],
            recurrence_days=row["recurrence_days"],
            require_support_parts=row["require_support_parts"] is not False,
        )

    def indicators(self, conn: sa.Connection, campaign_id: str) -> list[Indicator]:
        return [_indicator(r) for r in conn.execute(self._indicators, {"campaign": campaign_id}).mappings()]

    def indicator(self, conn: sa.Connection, campaign_id: str, code: str) -> Indicator | None:
        row = conn.execute(self._indicator, {"campaign": campaign_id, "code": code}).mappings().first()
        return _indicator(row) if row is not None else None

    def indicator_known(self, conn: sa.Connection, campaign_id: str, code: str) -> bool | None:
        """None: the campaign is not registered (no indicator rule); else whether ``code`` is in its tree."""
        row = self.direct.first(conn, self._known, {"campaign": campaign_id, "code": code})
        return None if row is None else row["code"] is not None

    def separation(self, conn: sa.Connection, campaign_id: str) -> str | None:
        return conn.execute(self._separation, {"id": campaign_id}).scalar()

    def require_support_parts(self, conn: sa.Connection, campaign_id: str) -> bool | None:
        """The campaign's default for joint work; None for an unregistered campaign (or NULL)."""
        stored = conn.execute(self._support_parts, {"id": campaign_id}).scalar()
        return None if stored is None else bool(stored)

    # --- places --------------------------------------------------------------------------------

    def save_grids(self, conn: sa.Connection, grids: Iterable[Grid], now: datetime) -> None:
        rows = [{"id": g.id, "name": g.name, "unit": g.unit, "updated_at": now} for g in grids]
        self._replace(conn, self.tables.grids, rows)

    def save_sites(self, conn: sa.Connection, sites: Iterable[Site], now: datetime) -> None:
        rows = [
            {"id": s.id, "name": s.name, "unit": s.unit, "grid": s.grid, "updated_at": now} for s in sites
        ]
        self._replace(conn, self.tables.sites, rows)

    def _replace(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, object]]) -> None:
        if not rows:
            return
        conn.execute(table.delete().where(table.c.id.in_([r["id"] for r in rows])))
        conn.execute(table.insert(), rows)

    def site(self, conn: sa.Connection, site_id: str) -> Site | None:
        row = conn.execute(self._site, {"id": site_id}).mappings().first()
        if row is None:
            return None
        return Site(id=row["id"], name=row["name"], unit=row["unit"], grid=row["grid"])

    def grid(self, conn: sa.Connection, grid_id: str) -> Grid | None:
        row = conn.execute(self._grid, {"id": grid_id}).mappings().first()
        return Grid(id=row["id"], name=row["name"], unit=row["unit"]) if row is not None else None

    # --- scopes and the hierarchy ------------------------------------------------------------------

    def replace_scopes(
        self, conn: sa.Connection, office: str, scopes: Iterable[OfficeScope], now: datetime
    ) -> None:
        o = self.tables.office_scopes
        conn.execute(o.delete().where(o.c.office == office))
        rows = [{"office": office, "campaign": s.campaign, "root": s.root, "updated_at": now} for s in scopes]
        if rows:
            conn.execute(o.insert(), rows)

    def scopes(self, conn: sa.Connection, office: str) -> list[OfficeScope]:
        return [
            OfficeScope(office=r["office"], campaign=r["campaign"], root=r["root"])
            for r in self.direct.all(conn, self._scopes, {"office": office})
        ]

    def lineage(self, conn: sa.Connection, unit: str) -> list[str]:
        """``unit`` and its registered ancestors, nearest first ([] if the unit is unknown)."""
        return list(conn.execute(self._lineage, {"unit": unit}).scalars())

    def subtree(self, conn: sa.Connection, root: str) -> list[str]:
        """``root`` and every unit below it, by id ([] if the root is unknown)."""
        return list(conn.execute(self._subtree, {"root": root}).scalars())

    # --- inspection rounds and 回潮 ------------------------------------------------------------------

    def save_round(
        self, conn: sa.Connection, row: Mapping[str, object], findings: Sequence[Mapping[str, object]]
    ) -> None:
        conn.execute(self.tables.inspection_rounds.insert(), dict(row))
        if findings:
            conn.execute(self.tables.findings.insert(), [dict(f) for f in findings])

    def round(self, conn: sa.Connection, round_id: str) -> dict[str, object] | None:
        r = self.tables.inspection_rounds
        row = conn.execute(sa.select(r).where(r.c.id == round_id)).mappings().first()
        return dict(row) if row is not None else None

    def findings(self, conn: sa.Connection, round_id: str) -> list[dict[str, object]]:
        f = self.tables.findings
        query = sa.select(f).where(f.c.round_id == round_id).order_by(f.c.position)
        return [dict(row) for row in conn.execute(query).mappings()]

    def last_archived(
        self, conn: sa.Connection, campaign: str, site: str, indicator: str
    ) -> tuple[str, datetime, int] | None:
        """(id, archived at, recurrence count) of the task at ``site`` for ``indicator`` archived
        last, found through the (campaign, site, indicator) index; None if there is none."""
        row = conn.execute(
            self._last_archived, {"campaign": campaign, "site": site, "indicator": indicator}
        ).first()
        return (row[0], row[1], row[2]) if row is not None else None

    def parents(self, conn: sa.Connection) -> dict[str, str | None]:
        u = self.tables.units
        return {row[0]: row[1] for row in conn.execute(sa.select(u.c.id, u.c.parent))}


def _indicator(row: sa.RowMapping) -> Indicator:
    return Indicator(
        code=row["code"],
        name=row["name"],
        standard=row["standard"],
        weight=row["weight"],
        lead_unit=row["lead_unit"],
        parent=row["parent"],
    )
