"""Suggesting segments for an enterprise from its name, products and industry text."""

from chains.definitions import load_all
from chains.suggest import suggest_segments


def test_battery_foil_maker_gets_battery_foil_first():
    segments = [seg for chain in load_all() for seg in chain.segments]
    suggestions = suggest_segments(segments, name="某某铝箔有限公司", products="电池铝箔")

    first = suggestions[0]
    assert first.code == "AL-FOIL-BATTERY"
    assert "铝箔" in first.matched and "电池铝箔" in first.matched
    assert "名称含“铝箔”" in first.reasons
    assert "主营产品含“电池铝箔”" in first.reasons
    # Packaging foil shares 铝箔 through the name only, so it comes later with a lower score.
    codes = [s.code for s in suggestions]
    assert "AL-FOIL-PACKAGING" in codes
    assert suggestions[codes.index("AL-FOIL-PACKAGING")].score < first.score


def test_no_keyword_no_suggestion():
    segments = [seg for chain in load_all() for seg in chain.segments]
    assert suggest_segments(segments, name="某某商务咨询有限公司", products="企业管理咨询") == []


ROWS = [
    {"code": "X-NAME", "name": "甲", "keywords": ["甲乙"]},
    {"code": "X-PRODUCT", "name": "丙", "keywords": ["丙丁"]},
    {"code": "X-LONG", "name": "长", "keywords": ["丙丁戊己"]},
    {"code": "X-TEXT", "name": "文本", "keywords": "庚辛, 壬癸、BMS"},
]


def test_products_outweigh_the_name():
    suggestions = suggest_segments(ROWS, name="甲乙公司", products="丙丁")
    assert [s.code for s in suggestions] == ["X-PRODUCT", "X-NAME"]
    assert suggestions[0].reasons == ("主营产品含“丙丁”",)
    assert suggestions[1].reasons == ("名称含“甲乙”",)


def test_longer_keyword_wins_and_hides_the_shorter_inside_it():
    suggestions = suggest_segments(ROWS, products="丙丁戊己")
    assert [s.code for s in suggestions] == ["X-LONG"]
    # but a separate occurrence of the shorter word still counts
    suggestions = suggest_segments(ROWS, products="丙丁戊己，丙丁")
    assert [s.code for s in suggestions] == ["X-LONG", "X-PRODUCT"]


def test_industry_text_and_keywords_stored_as_text():
    suggestions = suggest_segments(ROWS, industry="壬癸制造")
    assert [(s.code, s.reasons) for s in suggestions] == [("X-TEXT", ("行业含“壬癸”",))]


def test_latin_keywords_match_whole_words_in_any_case():
    assert [s.code for s in suggest_segments(ROWS, products="储能bms主控")] == ["X-TEXT"]
    assert suggest_segments(ROWS, products="SUBMSERVER") == []


def test_ordering_ties_by_code_and_limit():
    rows = [{"code": c, "name": c, "keywords": ["相同词"]} for c in ("C", "A", "B")]
    suggestions = suggest_segments(rows, name="相同词")
    assert [s.code for s in suggestions] == ["A", "B", "C"]
    assert len({s.score for s in suggestions}) == 1
    assert [s.code for s in suggest_segments(rows, name="相同词", limit=2)] == ["A", "B"]
