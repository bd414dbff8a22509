"""The Chinese labels of the engine's English identifiers, kept in one place (DESIGN.md)."""

from __future__ import annotations

__all__ = ["EVENT_ZH", "ROLE_ZH", "SOURCE_ZH", "STATE_ZH", "TRIGGER_ZH"]

STATE_ZH: dict[str, str] = {
    "assigned": "已交办",
    "rectifying": "整改中",
    "self_checked": "已自查",
    "verified": "已验收",
    "archived": "已归档",
    "cancelled": "已撤销",
    "returned": "已退回",
    "suspended": "已挂起",
}

# Where a task came from (任务来源). Scoring may weigh a task by it, e.g. deductions doubled for items
# raised by leaders or the media (DOMAIN.md, "Scores").
SOURCE_ZH: dict[str, str] = {
    "office": "创建办交办",
    "leader": "领导交办",
    "media": "媒体曝光",
    "citizen": "群众投诉",
    "inspection": "督查发现",
    "covert_inspection": "暗访发现",
    "field_assessment": "实地测评发现",
    "superior": "上级反馈",
    "ledger": "台账导入",
}

# The action, as a verb: "只有创建办可以{交办}".
TRIGGER_ZH: dict[str, str] = {
    "assign": "交办",
    "reassign": "改派",
    "start": "开始整改",
    "submit_self_check": "提交自查",
    "fail_verification": "验收不通过（退回整改）",
    "pass_verification": "验收通过（销号）",
    "archive": "归档立卷",
    "cancel": "撤销",
    "request_extension": "申请延期",
    "approve_extension": "批准延期",
    "reject_extension": "驳回延期申请",
    "return_assignment": "回退任务",
    "suspend": "挂起任务",
    "resume": "恢复任务",
    "create_recurring": "按计划生成常态化任务",
    "add_evidence": "提交本单位佐证材料",
    "record_verdict": "登记验收意见",
    "pin_policy": "锁定创建活动的政策版本",
    "migrate_policy": "迁移任务到新的规则版本",
}

# What happened, as a notification or a ledger line says it.
EVENT_ZH: dict[str, str] = {
    "assign": "任务交办",
    "reassign": "任务改派",
    "start": "开始整改",
    "submit_self_check": "提交自查",
    "fail_verification": "验收未通过，退回整改",
    "pass_verification": "验收通过",
    "archive": "归档立卷",
    "cancel": "任务撤销",
    "request_extension": "申请延期",
    "approve_extension": "延期获批",
    "reject_extension": "延期申请被驳回",
    "return_assignment": "任务回退",
    "suspend": "任务挂起",
    "resume": "恢复整改",
    "add_evidence": "提交配合佐证材料",
    "record_verdict": "登记验收意见",
    "migrate_policy": "任务迁移到新的规则版本",
}

ROLE_ZH: dict[str, str] = {
    "office": "创建办",
    "unit": "责任单位",
    "inspector": "督查验收",
    "system": "系统",
}
