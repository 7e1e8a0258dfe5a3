"""`twin score`: the park's score on the 2021 Chengdu rubric in the terminal, and its exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from twin.cli_common import console, fail, session_factory
from twin.errors import TwinError
from twin.settings import get_settings

score_app = typer.Typer(help="The park's score on the 2021 Chengdu smart-park rubric (评分细则).", no_args_is_help=True)
ParkOption = Annotated[str, typer.Option("--park", help="park slug, e.g. tianfu-demo")]


def _score(park_slug: str) -> dict[str, Any]:
    """Score the park (keeping the day's automatic snapshot, as the API does) and return the public dict."""
    from twin.db.queries import parks
    from twin.db.session import transaction
    from twin.scoring import service

    settings = get_settings()
    try:
        with transaction(session_factory()) as session:
            return service.score_and_keep(session, park=parks.get_by_slug(session, slug=park_slug), settings=settings).public()
    except TwinError as exc:
        fail(exc.message)
    raise AssertionError("unreachable")


@score_app.command("show")
def show(park: ParkOption, as_json: Annotated[bool, typer.Option("--json", help="print the API's JSON instead of tables")] = False) -> None:
    """Print the score: total, the five dimensions and every indicator with its gap."""
    score = _score(park)
    if as_json:
        print(json.dumps(score, ensure_ascii=False, indent=2))
        return
    out = Console()
    out.print(f"[bold]{score['park_name']}[/bold] — {score['rubric']['title']}")
    out.print(f"总分 Total: [bold]{score['total']}[/bold] / {score['max']}   ({score['summary']})")
    dimensions = Table("维度 Dimension", "得分 Points", "满分 Max", "数据 Computed", "自评 Evidence", "未填报 Not assessed")
    for d in score["dimensions"]:
        dimensions.add_row(f"{d['name']} {d['name_en']}", str(d["points"]), str(d["max"]), str(d["computed_points"]),
                           str(d["evidence_points"]), str(d["not_assessed"]))
    out.print(dimensions)
    indicators = Table("指标 Indicator", "细项", "得分", "来源 Source", "值 Value", "差距 Gap", show_lines=False)
    for i in score["indicators"]:
        indicators.add_row(i["id"], i["name"], f"{i['points']}/{i['max']}", i["source"], (i["value_text"] or {}).get("zh", ""),
                           (i["gap"] or {}).get("zh", ""))
    out.print(indicators)


@score_app.command("export")
def export(park: ParkOption, output: Annotated[Path, typer.Option("-o", "--output", help="FILE.xlsx or FILE.html")]) -> None:
    """Write the score report laid out like the rubric table, as Excel (.xlsx) or printable HTML (.html)."""
    from twin.scoring import report

    suffix = output.suffix.lower()
    if suffix not in (".xlsx", ".html", ".htm"):
        fail("the output file must end in .xlsx or .html")
    score = _score(park)
    if suffix == ".xlsx":
        output.write_bytes(report.render_xlsx(score))
    else:
        output.write_text(report.render_html(score), encoding="utf-8")
    console.print(f"wrote {output} (total {score['total']} / {score['max']})")
