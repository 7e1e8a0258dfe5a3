"""Exports of a park's score laid out like the official rubric table: printable HTML (Chinese) and XLSX.

Both render the public score dict (service.ParkScore.public()), the same data the API returns.
The HTML is assembled with html.escape rather than a template engine: it is one fixed page and the
service has no template dependency otherwise.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from html import escape
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

SOURCE_LABELS = {"computed": "数据计算", "evidence": "自评", "not_assessed": "未填报"}
POLICY_LABELS = {"linear_floor": "区间内线性插值、向下取整", "linear_round": "区间内线性插值、四舍五入", "lowest": "区间内取最低分"}
COLUMNS = ("维度", "指标", "细项", "分值", "评分规则", "得分", "依据", "差距与建议")


def file_name(score: dict[str, Any], suffix: str) -> str:
    """A download name such as 'tianfu-demo-评分-2026-11-24.xlsx'."""
    return f"{score['park']}-评分-{score['computed_at'][:10]}.{suffix}"


def basis_text(indicator: dict[str, Any]) -> str:
    """The 依据 cell: the measured value and its source, or the self-assessment with who and when."""
    if indicator["source"] == "computed":
        text = (indicator.get("value_text") or {}).get("zh") or "—"
        return f"{text}（{SOURCE_LABELS['computed']}）" + (f"；{indicator['error']}" if indicator.get("error") else "")
    if indicator["source"] == "not_assessed":
        return SOURCE_LABELS["not_assessed"]
    evidence = indicator.get("evidence") or {}
    files = len(evidence.get("attachments") or [])
    when = (evidence.get("updated_at") or "")[:10]
    note = evidence.get("note") or ""
    return f"自评{indicator['points']}分：{note}（{evidence.get('updated_by', '')} {when}；附件{files}个）"


def gap_text(indicator: dict[str, Any]) -> str:
    """The 差距 cell: what is missing, then the steps that would add points."""
    lines = []
    if indicator.get("gap"):
        lines.append(indicator["gap"]["zh"])
    lines += [f"→ {advice['zh']}" for advice in indicator.get("advice") or []]
    return "\n".join(lines)


def _rows(score: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any], int, int]]:
    """(dimension, item, indicator, dimension rowspan or 0, item rowspan or 0) in rubric order."""
    indicators = score["indicators"]
    for dimension in score["dimensions"]:
        in_dimension = [i for i in indicators if i["dimension"] == dimension["id"]]
        first_of_dimension = True
        for item in dimension["items"]:
            in_item = [i for i in in_dimension if i["item"] == item["id"]]
            for k, indicator in enumerate(in_item):
                yield (dimension, item, indicator, len(in_dimension) if first_of_dimension else 0, len(in_item) if k == 0 else 0)
                first_of_dimension = False


# ── HTML ────────────────────────────────────────────────────────────────────────────────────────

def dimension_bars_svg(score: dict[str, Any], *, width: int = 680) -> str:
    """The five dimensions as horizontal bars (points / max) in inline SVG."""
    row, label_w, value_w = 30, 150, 90
    bar_w = width - label_w - value_w
    height = row * len(score["dimensions"]) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="bars" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="各维度得分">']
    for k, dimension in enumerate(score["dimensions"]):
        y = 5 + k * row
        share = max(0.0, min(1.0, dimension["points"] / dimension["max"])) if dimension["max"] else 0.0
        colour = "#2e7d32" if share >= 0.8 else "#f9a825" if share >= 0.6 else "#c62828"
        parts.append(f'<text x="0" y="{y + 19}" font-size="14">{escape(dimension["name"])}</text>'
                     f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="20" fill="#eceff1" rx="3"/>'
                     f'<rect x="{label_w}" y="{y + 4}" width="{bar_w * share:.1f}" height="20" fill="{colour}" rx="3">'
                     f'<title>{escape(dimension["name_en"])}: {dimension["points"]}/{dimension["max"]}</title></rect>'
                     f'<text x="{label_w + bar_w + 8}" y="{y + 19}" font-size="14">{dimension["points"]} / {dimension["max"]}</text>')
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif; color: #212121; margin: 16px; }
h1 { font-size: 22px; margin: 0 0 4px; }
.meta { color: #555; font-size: 13px; margin: 0 0 12px; }
.summary { display: flex; align-items: center; gap: 32px; margin-bottom: 16px; }
.total { font-size: 18px; } .total b { font-size: 40px; color: #0d47a1; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { border: 1px solid #90a4ae; padding: 4px 6px; vertical-align: top; }
th { background: #eceff1; }
td.num { text-align: center; white-space: nowrap; }
td.rule { width: 30%; } td.gap { width: 22%; white-space: pre-line; }
tr { page-break-inside: avoid; }
.src { display: inline-block; font-size: 11px; padding: 0 4px; border-radius: 3px; background: #e3f2fd; }
.src.evidence { background: #fff8e1; } .src.not_assessed { background: #ffebee; }
.full { color: #2e7d32; } .short { color: #c62828; }
footer { margin-top: 12px; font-size: 12px; color: #555; }
"""


def render_html(score: dict[str, Any]) -> str:
    """A standalone printable HTML page (zh-CN) of the score."""
    policy = score.get("policy", {})
    rows = []
    for dimension, item, ind, dim_span, item_span in _rows(score):
        cells = []
        if dim_span:
            cells.append(f'<td rowspan="{dim_span}"><b>{escape(dimension["name"])}</b><br>（{dimension["max"]}分）'
                         f'<br>得分 {dimension["points"]}</td>')
        if item_span:
            cells.append(f'<td rowspan="{item_span}">{escape(item["name"])}<br>（{item["max"]}分）<br>得分 {item["points"]}</td>')
        name = escape(ind["name"]) + (f'<br><small>{escape(ind["group"])}</small>' if ind.get("group") else "")
        state = "full" if ind["points"] >= ind["max"] else "short"
        cells += [
            f'<td>{name}<br><small>{escape(ind["id"])}</small></td>',
            f'<td class="num">{ind["max"]}</td>',
            f'<td class="rule">{escape(ind["rule"]["zh"])}</td>',
            f'<td class="num"><b class="{state}">{ind["points"]}</b><br><span class="src {ind["source"]}">{SOURCE_LABELS[ind["source"]]}</span></td>',
            f'<td>{escape(basis_text(ind))}</td>',
            f'<td class="gap">{escape(gap_text(ind))}</td>',
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(score['park_name'])} 智慧园区评分报告</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>
<body>
<h1>{escape(score['park_name'])} · 智慧园区评分自评报告</h1>
<p class="meta">评分依据：{escape(score['rubric']['title'])}｜计算时间：{escape(score['computed_at'][:19].replace('T', ' '))} UTC｜
部分得分：{escape(POLICY_LABELS.get(policy.get('partial_credit', ''), policy.get('partial_credit', '')))}｜实时数据窗口：{policy.get('live_window_min', '')}分钟</p>
<section class="summary"><div class="total">总分 <b>{score['total']}</b> / {score['max']}</div>{dimension_bars_svg(score)}</section>
<table><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(rows)}
<tr><td colspan="3"><b>合计</b></td><td class="num">{score['max']}</td><td></td><td class="num"><b>{score['total']}</b></td><td colspan="2">
数据计算 {score['summary'].get('computed', 0)} 项，自评 {score['summary'].get('evidence', 0)} 项，未填报 {score['summary'].get('not_assessed', 0)} 项</td></tr>
</tbody></table>
<footer>“数据计算”项由数字孪生中的要素、设备、企业与实时数据自动计算；“自评”项为园区管理员填报的自评分及依据；“未填报”项暂按0分计。</footer>
</body></html>
"""


# ── XLSX ────────────────────────────────────────────────────────────────────────────────────────

def render_xlsx(score: dict[str, Any]) -> bytes:
    """An .xlsx workbook with one sheet laid out like the rubric: 维度/指标/细项/分值/评分规则/得分/依据/差距."""
    book = Workbook()
    sheet = book.active
    sheet.title = "评分"
    thin = Side(style="thin", color="90A4AE")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.append([f"{score['park_name']} · {score['rubric']['title']} 自评"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"计算时间 {score['computed_at'][:19].replace('T', ' ')} UTC；总分 {score['total']} / {score['max']}；"
                  + "；".join(f"{d['name']} {d['points']}/{d['max']}" for d in score["dimensions"])])
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(COLUMNS))
    sheet.append(list(COLUMNS))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="ECEFF1")
        cell.alignment = centre
        cell.border = border
    merges: list[tuple[int, int, int]] = []  # (column, first row, rows); merged last: merging moves max_row ahead
    row = 3
    for dimension, item, ind, dim_span, item_span in _rows(score):
        row += 1
        values = [f"{dimension['name']}（{dimension['max']}分）\n得分 {dimension['points']}" if dim_span else None,
                  f"{item['name']}（{item['max']}分）\n得分 {item['points']}" if item_span else None,
                  ind["name"] + (f"\n{ind['group']}" if ind.get("group") else ""), ind["max"], ind["rule"]["zh"],
                  ind["points"], basis_text(ind), gap_text(ind)]
        for column, value in enumerate(values, start=1):
            sheet.cell(row, column, value)
        merges += [(1, row, dim_span), (2, row, item_span)]
    last = row + 1
    for column, value in ((1, "合计"), (4, score["max"]), (6, score["total"])):
        sheet.cell(last, column, value)
    for column, first, rows in merges:
        if rows > 1:
            sheet.merge_cells(start_row=first, start_column=column, end_row=first + rows - 1, end_column=column)
    sheet.cell(last, 1).font = Font(bold=True)
    sheet.cell(last, 6).font = Font(bold=True)
    for row in sheet.iter_rows(min_row=4, max_row=last):
        for cell in row:
            cell.border = border
            cell.alignment = centre if cell.column in (1, 2, 4, 6) else wrap
    for column, width in enumerate((16, 16, 26, 7, 60, 7, 40, 50), start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A4"
    sheet.print_options.gridLines = False
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
