"""A plugin object shipping two versions of one rule set, for ``campaignflow policy --plugin``."""

from __future__ import annotations

from collections.abc import Iterable

from campaignflow import ActionContext, Missing, Rule, RuleSetVersion

SET = "sanitation.toilets"


def _toilet_id(ctx: ActionContext) -> Iterable[Missing]:
    if "toilet_id" not in ctx.attributes:
        yield Missing("toilet_id", "公厕编号", "须写明公厕编号", "the toilet's id is required", "attributes")


def _photo(ctx: ActionContext) -> Iterable[Missing]:
    if not ctx.evidence:
        yield Missing("toilet_photos", "公厕保洁", "至少一张照片", "at least one photo", "evidence")


class Toilets:
    name = "toilets"
    __version__ = "1.0"

    def campaignflow_rule_sets(self) -> list[RuleSetVersion]:
        return [
            RuleSetVersion(SET, 1, [Rule("公厕保洁", {"submit_self_check"}, _photo, {"toilet_photos"})]),
            RuleSetVersion(
                SET,
                2,
                [
                    Rule("公厕保洁", {"submit_self_check"}, _photo, {"toilet_photos"}),
                    Rule("公厕编号", {"assign"}, _toilet_id, {"toilet_id"}),
                ],
            ),
        ]


PLUGIN = Toilets()
