"""The bulletin as one self-contained HTML page in Chinese: inline CSS and inline SVG charts, no
script, no font, image or style sheet from anywhere else, every text escaped."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html import escape

from campaignflow.bulletin.model import STATE_ORDER, Bulletin

__all__ = ["render_html"]

_COLOURS = {
    "assigned": "#9e9e9e",
    "rectifying": "#ffb300",
    "self_checked": "#29b6f6",
    "verified": "#43a047",
    "archived": "#1b5e20",
    "returned": "#8d6e63",
    "suspended": "#7e57c2",
    "cancelled": "#e0e0e0",
}
_STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 2em;
       color: #212121; }
h1 { text-align: center; font-size: 1.6em; }
.meta { text-align: center; color: #616161; }
table { border-collapse: collapse; margin: 1em 0; min-width: 60%; }
th, td { border: 1px solid #bdbdbd; padding: 4px 10px; text-align: center; }
th { background: #eeeeee; }
tr.red td { background: #ffebee; }
tr.black td { background: #eceff1; }
.lists { display: flex; gap: 2em; }
.lists div { flex: 1; }
svg text { font-size: 12px; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _bar_chart(bulletin: Bulletin) -> str:
    lines = bulletin.lines
    width, left, bar = 640, 160, 22
    height = 30 + len(lines) * (bar + 8)
    top = max([Decimal(100), *(line.points for line in lines)])
    scale = (width - left - 60) / float(top)
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="各单位得分">']
    for index, line in enumerate(lines):
        y = 20 + index * (bar + 8)
        length = max(0.0, float(line.points) * scale)
        colour = "#c62828" if line.black else "#2e7d32" if line.red else "#1565c0"
        parts.append(
            f'<text x="{left - 8}" y="{y + bar - 6}" text-anchor="end">{_e(line.unit_name)}</text>'
            f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar}" fill="{colour}"/>'
            f'<text x="{left + length + 6:.1f}" y="{y + bar - 6}">{_e(line.points)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _stacked_chart(bulletin: Bulletin) -> str:
    states = bulletin.states
    width, left, bar = 640, 160, 22
    used = [s for s in STATE_ORDER if any(s in counts for counts in states.values())]
    height = 60 + len(states) * (bar + 8)
    most = max([1, *(sum(counts.values()) for counts in states.values())])
    scale = (width - left - 40) / most
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="各单位任务状态">']
    for index, (unit, counts) in enumerate(states.items()):
        y = 20 + index * (bar + 8)
        x = float(left)
        parts.append(f'<text x="{left - 8}" y="{y + bar - 6}" text-anchor="end">{_e(unit)}</text>')
        for state in STATE_ORDER:
            count = counts.get(state, 0)
            if count:
                length = count * scale
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="{bar}" fill="{_COLOURS[state]}">'
                    f"<title>{_e(bulletin.state_label(state))} {count}</title></rect>"
                )
                x += length
        parts.append(f'<text x="{x + 6:.1f}" y="{y + bar - 6}">{sum(counts.values())}</text>')
    legend_y = height - 22
    for index, state in enumerate(used):
        x = left + index * 80
        parts.append(
            f'<rect x="{x}" y="{legend_y}" width="12" height="12" fill="{_COLOURS[state]}"/>'
            f'<text x="{x + 16}" y="{legend_y + 11}">{_e(bulletin.state_label(state))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _unit_list(title: str, names: list[str]) -> str:
    items = "".join(f"<li>{_e(n)}</li>" for n in names) or "<li>无</li>"
    return f"<div><h3>{_e(title)}</h3><ul>{items}</ul></div>"


def render_html(bulletin: Bulletin) -> str:
    """The bulletin as a complete HTML document (UTF-8)."""
    period = bulletin.period
    span = f"{period.start:%Y年%m月%d日}至{period.end - timedelta(days=1):%Y年%m月%d日}"
    rows = []
    for line in bulletin.lines:
        css = ' class="red"' if line.red else ' class="black"' if line.black else ""
        mark = "红榜" if line.red else "黑榜" if line.black else ""
        rows.append(
            f"<tr{css}><td>{line.rank}</td><td>{_e(line.unit_name)}</td><td>{_e(line.points)}</td>"
            f"<td>{line.due}</td><td>{_e(line.on_time.percent())}</td><td>{_e(line.overdue.percent())}</td>"
            f"<td>{_e(line.rework.percent())}</td><td>{mark}</td></tr>"
        )
    overdue = "".join(
        f"<tr><td>{index}</td><td>{_e(item.unit_name)}</td><td>{_e(item.indicator)}</td>"
        f"<td>{_e(item.title)}</td><td>{item.deadline:%Y-%m-%d}</td><td>{item.days_overdue}</td></tr>"
        for index, item in enumerate(bulletin.overdue, start=1)
    )
    overdue_table = (
        "<table><thead><tr><th>序号</th><th>责任单位</th><th>指标</th><th>任务</th><th>完成时限</th>"
        f"<th>超期天数</th></tr></thead><tbody>{overdue}</tbody></table>"
        if overdue
        else "<p>本期无超期任务。</p>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(bulletin.title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{_e(bulletin.title)}</h1>\n"
        f'<p class="meta">考核周期：{_e(span)}　评分办法：{_e(bulletin.scheme_label)}　'
        f"发布时间：{bulletin.issued_at:%Y-%m-%d %H:%M}</p>\n"
        "<h2>一、考核排名</h2>\n"
        "<table><thead><tr><th>名次</th><th>责任单位</th><th>得分</th><th>应办结任务</th><th>按期完成率</th>"
        f"<th>超期率</th><th>返工率</th><th>红黑榜</th></tr></thead><tbody>{''.join(rows)}</tbody></table>\n"
        '<h2>二、红黑榜</h2>\n<div class="lists">'
        + _unit_list("红榜", [line.unit_name for line in bulletin.red])
        + _unit_list("黑榜", [line.unit_name for line in bulletin.black])
        + "</div>\n<h2>三、超期任务</h2>\n"
        + overdue_table
        + "\n<h2>四、各单位得分</h2>\n"
        + _bar_chart(bulletin)
        + "\n<h2>五、各单位任务状态</h2>\n"
        + _stacked_chart(bulletin)
        + "\n</body>\n</html>\n"
    )
