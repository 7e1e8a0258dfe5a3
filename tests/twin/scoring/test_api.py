"""The score API: score, indicator detail, snapshots, evidence with attachments, reports; roles and bad input."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.conftest import bearer

pytestmark = pytest.mark.usefixtures("demo_park")
PARK = "tianfu-demo"
BASE = f"/api/v1/parks/{PARK}/score"


def test_score_has_totals_dimensions_and_every_indicator(client: TestClient) -> None:
    body = client.get(BASE).json()
    assert body["max"] == 500 and len(body["dimensions"]) == 5 and len(body["indicators"]) == 70
    assert body["total"] == pytest.approx(sum(d["points"] for d in body["dimensions"]))
    assert body["total"] == pytest.approx(sum(i["points"] for i in body["indicators"]))
    for dimension in body["dimensions"]:
        mine = [i for i in body["indicators"] if i["dimension"] == dimension["id"]]
        assert dimension["points"] == pytest.approx(sum(i["points"] for i in mine))
        assert sum(i["max"] for i in mine) == dimension["max"] == 100
    for indicator in body["indicators"]:
        assert 0 <= indicator["points"] <= indicator["max"]
        assert indicator["rule"]["zh"] and indicator["rule"]["en"]
        assert indicator["source"] in {"computed", "evidence", "not_assessed"}
        if indicator["points"] < indicator["max"]:
            assert indicator["gap"], f"{indicator['id']} loses points without saying why"
        assert (indicator["map"] or {}).get("geometries") is None, "geometries only in the indicator detail"
    assert body["summary"]["computed"] >= 30
    assert body["policy"] == {"partial_credit": "linear_floor", "live_window_min": 15}


def test_indicator_detail_has_camera_views_and_codes_for_the_map(client: TestClient) -> None:
    body = client.get(f"{BASE}/indicators/ops.camera_coverage").json()
    assert body["map"]["layer"] == "key_locations"
    features = body["map"]["geometries"]["features"]
    views = [f for f in features if f["properties"]["role"] == "camera_view"]
    assert views and all(f["geometry"]["type"] == "Polygon" for f in views)
    missing = set(body["map"]["highlight"]["missing"])
    flagged = {f["properties"]["code"] for f in features if f["properties"]["role"] == "key_location" and not f["properties"]["covered"]}
    assert missing == flagged and missing
    assert len(body["evidence"]["details"]) == body["evidence"]["total"]


def test_unknown_park_and_indicator_are_404(client: TestClient) -> None:
    assert client.get("/api/v1/parks/nope/score").status_code == 404
    response = client.get(f"{BASE}/indicators/infra.nope")
    assert response.status_code == 404 and "unknown indicator" in response.json()["error"]["message"]


def test_reads_need_a_token(anon_client: TestClient) -> None:
    assert anon_client.get(BASE).status_code == 401


def test_scoring_keeps_one_automatic_snapshot_a_day(client: TestClient, tokens: dict[str, str]) -> None:
    client.get(BASE)
    client.get(BASE)
    snapshots = client.get(f"{BASE}/snapshots").json()
    days = [s["day"] for s in snapshots if s["trigger"] == "auto"]
    assert len(days) == len(set(days)) >= 1
    assert client.post(f"{BASE}/snapshots").status_code == 403  # viewer
    made = client.post(f"{BASE}/snapshots", headers=bearer(tokens["admin"]))
    assert made.status_code == 201
    snapshot = made.json()
    assert snapshot["trigger"] == "manual" and snapshot["created_by"] == "test admin"
    assert set(snapshot["dimensions"]) == {"infra", "ops", "service", "org", "industry"} and len(snapshot["indicators"]) == 70
    again = client.get(f"{BASE}/snapshots").json()
    assert again[-1]["id"] == snapshot["id"] and len(again) == len(snapshots) + 1


def test_evidence_is_admin_only_and_limited_to_the_rule_levels(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    url = f"{BASE}/evidence/org.it_team"
    blank = client.get(url).json()
    assert blank["evidence"] is None and blank["allowed_points"] == [0, 3, 4, 5, 6, 10]
    assert client.put(url, json={"points": 10, "note": "x"}).status_code == 403  # viewer
    assert client.put(url, json={"points": 10}, headers=bearer(tokens["integrator"])).status_code == 403
    bad = client.put(url, json={"points": 8, "note": "兼职"}, headers=admin)
    assert bad.status_code == 400 and "allowed: 0, 3, 4, 5, 6, 10" in bad.json()["error"]["message"]
    assert client.put(url, json={"points": -1}, headers=admin).status_code == 422
    computed = client.put(f"{BASE}/evidence/ops.ev_charging", json={"points": 5}, headers=admin)
    assert computed.status_code == 400 and "computed from the twin" in computed.json()["error"]["message"]
    saved = client.put(url, json={"points": 10, "note": "专职信息化团队6人"}, headers=admin)
    assert saved.status_code == 200
    entry = saved.json()["evidence"]
    assert entry["points"] == 10 and entry["level"] == "专职团队" and entry["updated_by"] == "test admin" and entry["updated_at"]
    indicator = next(i for i in client.get(BASE).json()["indicators"] if i["id"] == "org.it_team")
    assert indicator["source"] == "evidence" and indicator["points"] == 10 and indicator["gap"] is None
    assert indicator["evidence"]["note"] == "专职信息化团队6人"
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get(url).json()["evidence"] is None


def test_evidence_attachments_upload_download_and_limits(client: TestClient, tokens: dict[str, str], settings) -> None:  # type: ignore[no-untyped-def]
    admin = bearer(tokens["admin"])
    url = f"{BASE}/evidence/ops.emergency_plans"
    files = {"file": ("应急预案.pdf", b"%PDF-1.4 plan", "application/pdf")}
    early = client.post(f"{url}/attachments", files=files, headers=admin)
    assert early.status_code == 409 and "before attaching" in early.json()["error"]["message"]
    client.put(url, json={"points": 3, "note": "预案已制订，疏散点位待补充"}, headers=admin)
    assert client.post(f"{url}/attachments", files=files).status_code == 403  # viewer
    made = client.post(f"{url}/attachments", files=files, headers=admin)
    assert made.status_code == 201, made.text
    attachment = made.json()
    assert attachment["filename"] == "应急预案.pdf" and attachment["size"] == 13 and attachment["uploaded_by"] == "test admin"
    assert attachment["content_type"] == "application/pdf" and len(attachment["sha256"]) == 64
    download = client.get(attachment["href"])
    assert download.status_code == 200 and download.content == b"%PDF-1.4 plan"
    assert download.headers["content-type"] == "application/pdf" and download.headers["x-content-type-options"] == "nosniff"
    disguised = client.post(f"{url}/attachments", files={"file": ("note.txt", b"<script>", "text/html")}, headers=admin).json()
    assert disguised["content_type"] == "text/plain", "the type follows the suffix, not the client"
    assert client.get(url).json()["evidence"]["attachments"][0]["id"] == attachment["id"]
    wrong = client.post(f"{url}/attachments", files={"file": ("x.exe", b"MZ", "application/octet-stream")}, headers=admin)
    assert wrong.status_code == 400 and "unsupported file type" in wrong.json()["error"]["message"]
    big = b"0" * (settings.score_attachment_max_bytes + 1)
    assert client.post(f"{url}/attachments", files={"file": ("big.txt", big, "text/plain")}, headers=admin).status_code == 413
    assert client.delete(attachment["href"], headers=admin).status_code == 204
    assert client.get(attachment["href"]).status_code == 404
    assert not list((settings.data_dir / "score" / PARK / "ops.emergency_plans").rglob("*.pdf"))


def test_html_report_is_printable_chinese_with_svg_bars(client: TestClient) -> None:
    response = client.get(f"{BASE}/report.html")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="zh-CN">' in html and "@page" in html
    assert html.count("<svg") == 1 and html.count('<rect x="150"') == 10  # five bars: background + fill each
    for column in ("维度", "指标", "细项", "分值", "评分规则", "得分", "依据", "差距"):
        assert f"<th>{column}" in html
    assert "基础设施信息化" in html and "本项最高得分20分" in html


def test_xlsx_report_is_laid_out_like_the_rubric(client: TestClient) -> None:
    response = client.get(f"{BASE}/report.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[3]] == ["维度", "指标", "细项", "分值", "评分规则", "得分", "依据", "差距与建议"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 71 and rows[-1][0] == "合计" and rows[-1][3] == 500
    assert sum(r[3] for r in rows[:-1]) == 500
    score = client.get(BASE).json()
    assert rows[-1][5] == score["total"]
    assert any(str(r[0]).startswith("基础设施信息化") for r in rows)
    merged = {str(m) for m in sheet.merged_cells.ranges}
    assert "A4:A21" in merged, "基础设施信息化 spans its 18 indicators"


def test_the_rubric_is_served(client: TestClient) -> None:
    body = client.get("/api/v1/score/rubric").json()
    assert body["edition"] == "2021" and [d["max"] for d in body["dimensions"]] == [100] * 5
