"""The analysis service on a small hand-built data set: presence, pipeline, statuses, zones, targets."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from crm.extensions import db
from crm.chains import gaps as analysis
from crm.chains.gaps import NotFound
from tests import factories as f
from tests.chains_app.conftest import mapped_enterprise, project_on


@pytest.fixture
def data(world):
    w = world
    # 电解铝: two firms in zone A (one above scale, one chain leader) and one in zone B.
    mapped_enterprise(w.admin, "AL-PRIMARY", zone=w.zone_a, revenue=1000, above_scale=True)
    mapped_enterprise(w.admin, "AL-PRIMARY", zone=w.zone_a, revenue=500, leader=True, primary=False)
    mapped_enterprise(w.admin, "AL-PRIMARY", zone=w.zone_b, revenue=9000, above_scale=True)
    # 氧化铝: one small firm in zone A; a deleted one and a target elsewhere do not count.
    mapped_enterprise(w.admin, "AL-ALUMINA", zone=w.zone_a, revenue=300)
    gone = mapped_enterprise(w.admin, "AL-ALUMINA", zone=w.zone_a, revenue=7000, above_scale=True)
    gone.deleted_at = datetime.now(UTC)
    mapped_enterprise(w.admin, "AL-ALUMINA", revenue=50000, above_scale=True)
    # 包装铝箔: only a signed project in zone A (partial); zone B's is under construction.
    project_on(w.officer_a, "AL-FOIL-PACKAGING", "签约")
    project_on(w.officer_b, "AL-FOIL-PACKAGING", "开工")
    # 铝粉: leads in zone A; on hold, deleted and zone B's leads do not count.
    project_on(w.officer_a, "AL-POWDER", "线索")
    project_on(w.officer_a, "AL-POWDER", "线索")
    project_on(w.officer_a, "AL-POWDER", "洽谈")
    project_on(w.officer_a, "AL-POWDER", "搁置")
    project_on(w.officer_a, "AL-POWDER", "考察").deleted_at = datetime.now(UTC)
    project_on(w.officer_b, "AL-POWDER", "洽谈")
    db.session.commit()
    return w


CODES = ["AL-PRIMARY", "AL-ALUMINA", "AL-FOIL-PACKAGING", "AL-POWDER", "AL-BAUXITE"]


def test_presence_counts_local_firms_output_leaders_and_signed_projects(data):
    presence = analysis.presence_for(CODES, [data.zone_a.id], user=data.officer_a)
    assert presence == {
        "AL-PRIMARY": {"count": 2, "output": 1500.0, "leader": True, "above_scale": 1, "partial": 0},
        "AL-ALUMINA": {"count": 1, "output": 300.0, "leader": False, "above_scale": 0, "partial": 0},
        "AL-FOIL-PACKAGING": {"count": 0, "output": 0.0, "leader": False, "above_scale": 0, "partial": 1},
    }


def test_presence_for_the_whole_city_counts_every_zone(data):
    presence = analysis.presence_for(CODES, None, user=data.admin)
    assert presence["AL-PRIMARY"] == {"count": 3, "output": 10500.0, "leader": True, "above_scale": 2, "partial": 0}
    assert presence["AL-FOIL-PACKAGING"]["partial"] == 2
    assert presence["AL-ALUMINA"]["count"] == 1  # the target elsewhere is not local anywhere


def test_pipeline_counts_active_leads_by_stage_with_weights(data):
    pipeline = analysis.pipeline_for(CODES, [data.zone_a.id], user=data.officer_a)
    assert pipeline.by_stage == {"AL-POWDER": {"线索": 2, "洽谈": 1}}
    assert pipeline.weighted == {"AL-POWDER": pytest.approx(2 * 0.1 + 0.75)}
    assert pipeline.total("AL-POWDER") == 3
    city = analysis.pipeline_for(CODES, None, user=data.admin)
    assert city.by_stage["AL-POWDER"] == {"线索": 2, "洽谈": 2}


def test_analyse_chain_for_a_zone_gives_each_segment_its_status(data):
    report = analysis.analyse_chain(data.chief_a, "aluminium")
    assert report.zone_ids == [data.zone_a.id] and report.scope_label == "甲园区"
    status = {r.code: r.status for r in report.records}
    assert status["AL-PRIMARY"] == "strong"
    assert status["AL-ALUMINA"] == "weak"  # present but no above-scale firm and no leader
    assert status["AL-FOIL-PACKAGING"] == "weak"  # only a signed project
    assert status["AL-BAUXITE"] == "missing"
    bauxite = report.record_by_code["AL-BAUXITE"]
    # 铝土矿 supplies 氧化铝, which is present: extend the chain upstream.
    assert bauxite.action == "延链" and bauxite.priority > 0 and "本地无企业" in bauxite.reasons
    assert sum(bauxite.contributions.values()) == pytest.approx(bauxite.priority, abs=0.01)
    assert report.kpis["present_segments"] == 3 and report.kpis["leader_count"] == 1
    assert report.kpis["total_output"] == pytest.approx(1800.0)
    assert report.pipeline.weighted["AL-POWDER"] == pytest.approx(0.95)
    assert all(not report.graph.nodes[r.code]["external"] for r in report.records)
    assert any(report.graph.nodes[c]["external"] for c in report.graph)  # other chains' linked segments
    assert set(report.positions) == set(report.graph)
    assert report.mappings_updated_at is not None and report.generated_at is not None


def test_admin_sees_the_whole_city_or_one_zone(data):
    city = analysis.analyse_chain(data.admin, "aluminium")
    assert city.is_city and city.zone_ids is None and city.scope_label == "全市"
    assert city.presence["AL-PRIMARY"]["count"] == 3
    assert [h["zone"] for h in city.holders["AL-PRIMARY"]] == ["甲园区", "乙园区"]
    zone_b = analysis.analyse_chain(data.admin, "aluminium", data.zone_b.id)
    assert zone_b.presence["AL-PRIMARY"]["count"] == 1 and zone_b.holders is None
    assert "AL-ALUMINA" not in zone_b.presence


def test_officer_asking_for_another_zone_is_refused(data):
    with pytest.raises(NotFound):
        analysis.analyse_chain(data.officer_a, "aluminium", data.zone_b.id)
    with pytest.raises(NotFound):
        analysis.analyse_chain(data.viewer_a, "aluminium", 999_999)
    with pytest.raises(NotFound):
        analysis.analyse_chain(data.admin, "aluminium", 999_999)
    with pytest.raises(NotFound):
        analysis.analyse_chain(data.officer_a, "no-such-chain")
    assert analysis.analyse_chain(data.viewer_a, "aluminium", data.zone_a.id).zone_ids == [data.zone_a.id]


def test_targets_are_ranked_and_count_only_the_zones_own_work(world):
    w = world
    small = mapped_enterprise(w.admin, "AL-BAUXITE", revenue=90000, name="外地大型铝土矿有限公司")
    scale = mapped_enterprise(w.admin, "AL-BAUXITE", revenue=100, above_scale=True, name="外地规上铝土矿有限公司")
    leader = mapped_enterprise(w.admin, "AL-BAUXITE", revenue=10, tags="链主", name="外地链主铝土矿有限公司")
    listed = mapped_enterprise(w.admin, "AL-BAUXITE", revenue=50, above_scale=True, tags="上市,专精特新",
                               name="外地上市铝土矿有限公司")
    mapped_enterprise(w.admin, "AL-BAUXITE", zone=w.zone_a, revenue=10**6, above_scale=True, name="甲园本地铝土矿")
    in_b = mapped_enterprise(w.admin, "AL-BAUXITE", zone=w.zone_b, name="乙园铝土矿有限公司")
    f.make_project(w.officer_a, small, name="甲园对接项目")
    f.make_visit(w.officer_a, enterprise=small)
    f.make_project(w.officer_b, small, name="乙园对接项目")
    f.make_visit(w.officer_b, enterprise=small)
    f.make_visit(w.officer_b, enterprise=small)
    db.session.commit()

    targets = analysis.targets_for(w.officer_a, "AL-BAUXITE", [w.zone_a.id])
    assert [t.enterprise_id for t in targets] == [leader.id, listed.id, scale.id, small.id, in_b.id]
    assert [t.rank for t in targets] == [1, 2, 3, 4, 5]
    first = {t.enterprise_id: t for t in targets}
    assert first[leader.id].leader and first[in_b.id].place == "本市·乙园区"
    assert (first[small.id].projects, first[small.id].visits) == (1, 1)  # zone B's work is not counted
    assert analysis.targets_for(w.officer_a, "AL-BAUXITE", [w.zone_a.id], limit=2)[1].enterprise_id == listed.id
    city = analysis.targets_for(w.admin, "AL-BAUXITE", None)
    assert in_b.id not in {t.enterprise_id for t in city}  # local somewhere: not a target for the city
    assert {t.enterprise_id: t.visits for t in city}[small.id] == 3


def test_segment_panel_shows_only_the_users_zone_projects(map_world):
    w = map_world
    panel = analysis.segment_panel(w.officer_a, "aluminium", "AL-PRIMARY")
    assert [p.name for p in panel.projects] == ["宏达铝材甲园项目"]
    assert [e["name"] for e in panel.local] == ["甲园电解铝有限公司"] and panel.local_total == 1
    assert panel.gap.status == "strong" and panel.holders is None
    # The city's own firms elsewhere come after firms from outside the city.
    assert [t.name for t in panel.targets] == ["江苏宏达铝业有限公司", "乙园电解铝有限公司"]
    city = analysis.segment_panel(w.admin, "aluminium", "AL-PRIMARY")
    assert {p.name for p in city.projects} == {"宏达铝材甲园项目", "宏达铝材乙园机密项目"}
    assert [(h["zone"], h["count"]) for h in city.holders] == [("甲园区", 1), ("乙园区", 1)]
    with pytest.raises(NotFound):
        analysis.segment_panel(w.officer_a, "aluminium", "PH-API")  # not in the aluminium graph


def test_coverage_by_chain_counts_present_segments(data):
    coverage, zone_ids, _ = analysis.coverage_by_chain(data.officer_a)
    assert zone_ids == [data.zone_a.id]
    assert coverage["aluminium"]["present"] == 3
    assert coverage["aluminium"]["segments"] == 32
    assert coverage["pharma"]["present"] == 0


def _analyse_counting(count_queries, user, zone_id):
    db.session.commit()  # the same starting state each time: everything expired
    with count_queries() as statements:
        report = analysis.analyse_chain(user, "aluminium", zone_id)
    return statements, report


def test_one_zone_analysis_runs_the_same_queries_for_5_and_60_enterprises(world, count_queries):
    codes = ["AL-PRIMARY", "AL-ALUMINA", "AL-BAUXITE", "AL-SHEET", "AL-SLAB"]
    for i in range(5):
        mapped_enterprise(world.admin, codes[i % 5], zone=world.zone_a, revenue=100 + i, above_scale=i % 2 == 0)
    few, report = _analyse_counting(count_queries, world.chief_a, world.zone_a.id)
    assert report.kpis["present_segments"] == 5
    for i in range(55):
        mapped_enterprise(world.admin, codes[i % 5], zone=world.zone_a if i % 3 else None, revenue=i)
    many, report = _analyse_counting(count_queries, world.chief_a, world.zone_a.id)
    assert len(many) == len(few), (len(few), len(many))
    assert len(many) <= 10, many
    # No statement returns a row per enterprise: whatever reads the enterprises groups them.
    reads_enterprises = [s for s in many if re.search(r"\b(FROM|JOIN) enterprises\b", s)]
    assert reads_enterprises and all("GROUP BY" in s for s in reads_enterprises), reads_enterprises
