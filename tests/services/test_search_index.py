"""Enterprise search through the bigram index finds exactly what the LIKE scan found.

``search_condition`` narrows a Chinese term of two or more characters to the enterprises holding all
its bigrams (``enterprise_search_grams``, of names and aliases) before the LIKE; these tests compare its
hits with a plain LIKE scan over the same generated names (name, aliases, pinyin keys, credit code) for
terms of one, two and more characters, mixed-case Latin, LIKE's own wildcards, and after the names
change (edit, merge, its undo, import): the index is kept in the flush that changes the names. And the
count of a two-character search reads the index, not the table.
"""
from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, or_, select, text

from crm.admin.merges import merge_enterprises, undo_merge
from crm.extensions import db
from crm.imports import service as import_service
from crm.library.models import Enterprise, EnterpriseSearchGram
from crm.library.names import search_grams
from crm.library.service import enterprise_list_query, update_enterprise
from tests import factories as f
from tests.imports.builders import xlsx

WORDS = ("宏达", "铝业", "铝箔", "新材", "科技", "江州", "南山", "精密", "铸造", "有限公司", "集团", "股份",
         "ABC", "Abc", "ab", "100%", "a_b", "/x", "，", ",", " ")


def _like_scan(q: str) -> set[int]:
    """Today's semantics, spelled out as the scan it was: LIKE on name, aliases, pinyin; = on uscc."""
    q = q.strip()
    conditions = [Enterprise.name.contains(q, autoescape=True), Enterprise.aliases.contains(q, autoescape=True)]
    if q.isascii():
        conditions.append(Enterprise.search_pinyin.contains(q.lower().replace(" ", ""), autoescape=True))
        conditions.append(Enterprise.uscc == q.upper())
    return set(db.session.scalars(select(Enterprise.id).where(Enterprise.deleted_at.is_(None), or_(*conditions))))


def _searched(q: str) -> set[int]:
    return set(db.session.scalars(enterprise_list_query({"q": q}).with_only_columns(Enterprise.id)))


def _indexed(enterprise_id: int) -> set[str]:
    return set(db.session.scalars(select(EnterpriseSearchGram.gram)
                                  .where(EnterpriseSearchGram.enterprise_id == enterprise_id)))


def _library(seed: int, n: int = 60) -> list[Enterprise]:
    rng = random.Random(seed)
    admin = f.make_user("admin", username=f"search_admin{seed}")
    firms = []
    for i in range(n):
        name = "".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5))).strip() or f"企业{i}"
        aliases = ",".join("".join(rng.choice(WORDS[:12]) for _ in range(2)) for _ in range(rng.randint(0, 2)))
        firms.append(f.make_enterprise(admin, name=f"{name}{seed}x{i}", aliases=aliases,
                                       uscc=f.valid_uscc(9000 + 100 * seed + i) if i % 3 == 0 else None))
    return firms


def _terms(firms: list[Enterprise], rng: random.Random) -> list[str]:
    terms = ["", "铝", "a", "%", "_", "铝箔", "铝业", "ab", "AB", "Ab", "ly", "lvbo", "hong da", "100%", "a_b",
             "/x", "，铝", "宏达铝业", "铝箔科技有限", "不存在的词", "zz"]
    for firm in rng.sample(firms, 20):
        for source in (firm.name, firm.aliases, firm.search_pinyin):
            if source:
                start = rng.randrange(len(source))
                terms.append(source[start:start + rng.randint(1, 6)])
        if firm.uscc:
            terms += [firm.uscc, firm.uscc.lower()]
    return terms


def test_index_search_finds_what_the_like_scan_finds(app_ctx):
    firms = _library(1)
    for term in _terms(firms, random.Random(1)):
        assert _searched(term) == _like_scan(term), term


def test_a_two_character_count_reads_the_index_not_the_table(app_ctx):
    _library(4, n=10)
    count = select(func.count()).select_from(enterprise_list_query({"q": "铝箔"}).order_by(None).subquery())
    sql = str(count.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "sqlite":
        plan = " / ".join(row[-1] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert "enterprise_search_grams" in plan and "SCAN enterprises" not in plan, plan
        return
    # PostgreSQL picks its plan from statistics, and a test table is tiny enough to scan whole; with
    # scans priced out (as at city scale, where they cost more than the index) it must read the
    # bigram index and reach the enterprises by their key, never by scanning them.
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = " / ".join(row[0] for row in db.session.execute(text("EXPLAIN " + sql)))
    assert "enterprise_search_grams" in plan and "Seq Scan on enterprises" not in plan, plan


def test_every_enterprise_is_indexed_by_the_grams_of_its_names(app_ctx):
    firms = _library(2, n=10)
    for firm in firms:
        assert _indexed(firm.id) == search_grams(firm.name, firm.aliases)


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(term=st.text(alphabet="铝箔宏达业科技abAB%_/ ,", min_size=1, max_size=5))
def test_any_term_finds_what_the_like_scan_finds(app_ctx, term):
    if not db.session.scalar(select(Enterprise.id).where(Enterprise.name.like("%x0"))):
        _library(3, n=40)
    assert _searched(term) == _like_scan(term), term


def test_the_index_follows_edits_merges_and_imports(app_ctx, world):
    admin, firm = world.admin, world.enterprise
    assert firm.id in _searched("宏达") and firm.id in _searched("hongda")
    update_enterprise(admin, firm, {"name": "江苏恒远铝箔有限公司", "aliases": "恒远"}, version=firm.version)
    assert firm.id not in _searched("宏达") and firm.id not in _searched("hongda")
    assert firm.id in _searched("恒远") and firm.id in _searched("铝箔") and firm.id in _searched("hengyuan")
    assert _indexed(firm.id) == search_grams(firm.name, firm.aliases)

    other = f.make_enterprise(admin, name="安徽晨光新材有限公司")
    record = merge_enterprises(admin, firm, other)
    assert firm.id in _searched("晨光新材")  # the merged name became the survivor's alias
    assert other.id not in _searched("晨光")  # the merged firm is deleted
    undo_merge(admin, record)
    assert firm.id not in _searched("晨光新材") and other.id in _searched("晨光新材")

    rows = [["企业名称", "统一社会信用代码"], ["湖南星火精铸有限公司", None]]
    table = import_service.read_table(xlsx(rows), "企业.xlsx", kind="enterprises", max_bytes=10 * 1024 * 1024,
                                      max_rows=1000)
    import_service.commit_import(admin, "enterprises", table, None, world.zone_a, "企业.xlsx")
    imported = db.session.scalar(select(Enterprise.id).where(Enterprise.name == "湖南星火精铸有限公司"))
    assert _searched("星火") == {imported} == _like_scan("星火")
    assert _searched("xhjz") == {imported}
