"""Loading and validating chain files: each bad file names the file and the entry at fault."""

import textwrap

import pytest

from chains.definitions import ChainDef, DefinitionError, SegmentDef, load_all, load_chain_file

GOOD = """\
code: aluminium
name: 铝基新材料
name_en: Aluminium
version: 2026.1
segments:
  - code: AL-BAUXITE
    name: 铝土矿
    tier: 上游
    value_add: 1
    keywords: [铝土矿, 铝矾土]
  - code: AL-ALUMINA
    name: 氧化铝
    name_en: Alumina
    tier: 上游
    value_add: 2
    products: [氧化铝]
    keywords: [氧化铝]
  - code: AL-FOIL-BATTERY
    name: 电池铝箔
    tier: 中游
    value_add: 4
    keywords: [电池铝箔]
links:
  - [AL-BAUXITE, AL-ALUMINA]
  - [AL-ALUMINA, AL-FOIL-BATTERY]
  - [AL-FOIL-BATTERY, LB-CATHODE]
"""

LITHIUM = """\
code: lithium
name: 锂电池与储能
group: 新能源
version: "2026.1"
segments:
  - code: LB-CATHODE
    name: 正极材料
    tier: 中游
    value_add: 4
    keywords: [正极材料]
links: []
"""


def write(directory, name, text):
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors_of(path):
    with pytest.raises(DefinitionError) as caught:
        load_chain_file(path)
    assert str(caught.value) == "\n".join(caught.value.errors)
    return caught.value.errors


def test_good_file_loads_into_dataclasses(tmp_path):
    chain = load_chain_file(write(tmp_path, "aluminium.yaml", GOOD))

    assert isinstance(chain, ChainDef)
    assert chain.code == "aluminium" and chain.group == "" and chain.prefix == "AL"
    assert chain.version == "2026.1"  # YAML reads it as a float; we keep it as text
    assert chain.segments[1] == SegmentDef(
        code="AL-ALUMINA",
        chain="aluminium",
        name="氧化铝",
        name_en="Alumina",
        tier="上游",
        value_add=2,
        products=("氧化铝",),
        keywords=("氧化铝",),
    )
    assert chain.segments[0].products == ()
    # The cross-chain link is not checked on its own, only by load_all.
    assert chain.links[-1] == ("AL-FOIL-BATTERY", "LB-CATHODE")


def test_unknown_code_in_link(tmp_path):
    path = write(tmp_path, "aluminium.yaml", GOOD.replace("[AL-BAUXITE, AL-ALUMINA]", "[AL-X, AL-ALUMINA]"))
    assert errors_of(path) == ["aluminium.yaml: 链接 #1 [AL-X → AL-ALUMINA]: 未知环节代码 AL-X"]


def test_duplicate_code(tmp_path):
    path = write(tmp_path, "aluminium.yaml", GOOD.replace("code: AL-FOIL-BATTERY", "code: AL-BAUXITE"))
    errors = errors_of(path)
    assert "aluminium.yaml: 重复的环节代码 AL-BAUXITE (环节 #1 与 #3)" in errors


def test_missing_name(tmp_path):
    path = write(tmp_path, "aluminium.yaml", GOOD.replace("    name: 氧化铝\n", ""))
    assert errors_of(path) == ["aluminium.yaml: 环节 #2 (AL-ALUMINA): 缺少名称 name"]


def test_tier_out_of_range(tmp_path):
    path = write(tmp_path, "aluminium.yaml", GOOD.replace("tier: 中游", "tier: 中下游"))
    assert errors_of(path) == [
        'aluminium.yaml: 环节 #3 (AL-FOIL-BATTERY): 层级 tier 必须是 上游/中游/下游，实际为 "中下游"'
    ]


@pytest.mark.parametrize("bad", ["0", "6", "2.5", '"3"', "true"])
def test_value_add_out_of_range(tmp_path, bad):
    path = write(tmp_path, "aluminium.yaml", GOOD.replace("value_add: 4", f"value_add: {bad}"))
    (error,) = errors_of(path)
    assert error.startswith("aluminium.yaml: 环节 #3 (AL-FOIL-BATTERY): 价值层级 value_add 必须是 1–5 的整数")


def test_unknown_keys(tmp_path):
    text = GOOD.replace("    keywords: [氧化铝]", "    keyword: [氧化铝]").replace(
        "version: 2026.1", "version: 2026.1\nverison: 2"
    )
    errors = errors_of(write(tmp_path, "aluminium.yaml", text))
    assert any(e.startswith("aluminium.yaml: 未知字段 'verison'") for e in errors)
    assert any(e.startswith("aluminium.yaml: 环节 #2 (AL-ALUMINA): 未知字段 'keyword'") for e in errors)


def test_keywords_must_be_a_list_of_specific_words(tmp_path):
    text = GOOD.replace("keywords: [氧化铝]", "keywords: 氧化铝").replace(
        "keywords: [电池铝箔]", "keywords: [电池铝箔, 铝]"
    )
    errors = errors_of(write(tmp_path, "aluminium.yaml", text))
    assert any("环节 #2 (AL-ALUMINA): 关键词 keywords 必须是字符串列表" in e for e in errors)
    assert any("环节 #3 (AL-FOIL-BATTERY): 关键词 keywords 中的 “铝” 太短" in e for e in errors)


def test_self_link_and_duplicate_link(tmp_path):
    text = GOOD.replace(
        "  - [AL-BAUXITE, AL-ALUMINA]\n",
        "  - [AL-BAUXITE, AL-ALUMINA]\n  - [AL-ALUMINA, AL-ALUMINA]\n  - [AL-BAUXITE, AL-ALUMINA]\n",
    )
    errors = errors_of(write(tmp_path, "aluminium.yaml", text))
    assert "aluminium.yaml: 链接 #2 [AL-ALUMINA → AL-ALUMINA]: 环节不能链接到自身" in errors
    assert "aluminium.yaml: 链接 #3 [AL-BAUXITE → AL-ALUMINA]: 重复的链接（与链接 #1 相同）" in errors


def test_malformed_link_and_foreign_link(tmp_path):
    text = GOOD.replace(
        "  - [AL-BAUXITE, AL-ALUMINA]\n",
        "  - [AL-BAUXITE]\n  - [LB-CELL, LB-PACK]\n",
    )
    errors = errors_of(write(tmp_path, "aluminium.yaml", text))
    assert any(e.startswith("aluminium.yaml: 链接 #1: 必须是 [供应方, 采购方]") for e in errors)
    assert any(e.startswith("aluminium.yaml: 链接 #2 [LB-CELL → LB-PACK]: 两端都不属于本链") for e in errors)


def test_code_prefix_and_file_name_must_agree(tmp_path):
    text = GOOD.replace("code: AL-ALUMINA", "code: ALU-ALUMINA").replace("AL-ALUMINA]", "ALU-ALUMINA]")
    errors = errors_of(write(tmp_path, "aluminum.yaml", text))
    assert any(e.startswith("aluminum.yaml: 链代码 code “aluminium” 必须与文件名 aluminum 一致") for e in errors)
    assert any(e.startswith("aluminum.yaml: 环节 #2 (ALU-ALUMINA): 环节代码 code 的前缀") for e in errors)


def test_duplicate_yaml_key_is_an_error(tmp_path):
    text = GOOD.replace("    name: 氧化铝\n", "    name: 氧化铝\n    name: 矾土\n")
    (error,) = errors_of(write(tmp_path, "aluminium.yaml", text))
    assert error.startswith("aluminium.yaml: 无法读取 YAML") and "重复的字段 'name'" in error


def test_all_errors_of_a_file_are_collected(tmp_path):
    text = (
        GOOD.replace("    name: 氧化铝\n", "")
        .replace("tier: 中游", "tier: 中下游")
        .replace("[AL-BAUXITE, AL-ALUMINA]", "[AL-X, AL-ALUMINA]")
    )
    assert len(errors_of(write(tmp_path, "aluminium.yaml", text))) == 3


def test_load_all_checks_links_across_files(tmp_path):
    write(tmp_path, "aluminium.yaml", GOOD)
    write(tmp_path, "lithium.yaml", LITHIUM)
    chains = load_all(tmp_path)
    assert [c.code for c in chains] == ["aluminium", "lithium"]

    write(tmp_path, "aluminium.yaml", GOOD.replace("LB-CATHODE]", "LB-CATHOD]"))
    with pytest.raises(DefinitionError) as caught:
        load_all(tmp_path)
    assert caught.value.errors == [
        "aluminium.yaml: 链接 #3 [AL-FOIL-BATTERY → LB-CATHOD]: 未知环节代码 LB-CATHOD"
    ]


def test_load_all_rejects_codes_defined_twice(tmp_path):
    write(tmp_path, "aluminium.yaml", GOOD)
    write(tmp_path, "lithium.yaml", LITHIUM)
    write(tmp_path, "recycled.yaml", GOOD.replace("code: aluminium", "code: recycled"))
    with pytest.raises(DefinitionError) as caught:
        load_all(tmp_path)
    errors = caught.value.errors
    assert "重复的环节代码 AL-BAUXITE (aluminium.yaml 环节 #1 与 recycled.yaml 环节 #1)" in errors
    assert any(e.startswith("recycled.yaml: 环节前缀 AL- 已被 aluminium.yaml 使用") for e in errors)
    assert any(
        e.startswith("recycled.yaml: 链接 #1 [AL-BAUXITE → AL-ALUMINA]: 重复的链接") for e in errors
    )


def test_load_all_reports_every_bad_file(tmp_path):
    write(tmp_path, "aluminium.yaml", GOOD.replace("tier: 中游", "tier: 中下游"))
    write(tmp_path, "lithium.yaml", LITHIUM.replace("value_add: 4", "value_add: 9"))
    with pytest.raises(DefinitionError) as caught:
        load_all(tmp_path)
    files = [error.split(":")[0] for error in caught.value.errors]
    assert files == ["aluminium.yaml", "lithium.yaml"]


def test_empty_directory(tmp_path):
    with pytest.raises(DefinitionError, match="没有找到链定义文件"):
        load_all(tmp_path)
