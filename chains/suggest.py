"""Suggest which chain segments an enterprise belongs to, from its name, products and industry.

A segment's keywords are looked for in the three texts. The score of a match is

    field weight × keyword length ÷ number of segments sharing the keyword

so a longer, rarer keyword counts more, and a match in the main products (3) outweighs one in
the industry text (2) or the name (1.5). A keyword found only inside a longer matched keyword
is not counted there: "电池铝箔" in the products speaks for battery foil, not for every segment
listing 铝箔. Latin keywords (BMS, IGBT) match case-insensitively and only as whole words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chains.definitions import SegmentDef

FIELD_WEIGHTS = {"products": 3.0, "industry": 2.0, "name": 1.5}
FIELD_LABELS = {"products": "主营产品", "industry": "行业", "name": "名称"}

_LATIN_WORD = re.compile(r"^[A-Za-z0-9]+$")
_KEYWORD_SEPARATORS = re.compile(r"[,，、;；\s]+")


@dataclass(frozen=True)
class Suggestion:
    code: str
    name: str
    score: float
    matched: tuple[str, ...]
    reasons: tuple[str, ...]


def suggest_segments(
    segments: Iterable[SegmentDef | Mapping],
    *,
    name: str = "",
    products: str = "",
    industry: str = "",
    limit: int = 5,
) -> list[Suggestion]:
    """Best-matching segments first (score descending, then code); empty when nothing matches."""
    rows = [_row(segment) for segment in segments]
    shared = Counter(keyword for _, _, keywords in rows for keyword in set(keywords))
    texts = {"products": products or "", "industry": industry or "", "name": name or ""}
    found = {field: _found_keywords(text, shared) for field, text in texts.items()}

    suggestions = []
    for code, seg_name, keywords in rows:
        score = 0.0
        matched: list[str] = []
        reasons: list[str] = []
        for field in FIELD_WEIGHTS:  # products, industry, name: reasons in order of weight
            for keyword in sorted(set(keywords) & found[field], key=lambda k: (-len(k), k)):
                score += FIELD_WEIGHTS[field] * len(keyword) / shared[keyword]
                reasons.append(f"{FIELD_LABELS[field]}含“{keyword}”")
                if keyword not in matched:
                    matched.append(keyword)
        if score > 0:
            suggestions.append(
                Suggestion(code, seg_name, round(score, 2), tuple(matched), tuple(reasons))
            )
    suggestions.sort(key=lambda s: (-s.score, s.code))
    return suggestions[:limit]


def _row(segment: SegmentDef | Mapping) -> tuple[str, str, tuple[str, ...]]:
    if isinstance(segment, Mapping):
        code, name, keywords = segment["code"], segment.get("name", ""), segment.get("keywords")
    else:
        code, name, keywords = segment.code, segment.name, segment.keywords
    if isinstance(keywords, str):  # a database column may hold "铝箔, 电池铝箔"
        keywords = _KEYWORD_SEPARATORS.split(keywords)
    return code, name, tuple(k.strip() for k in keywords or () if k and k.strip())


def _found_keywords(text: str, keywords: Iterable[str]) -> set[str]:
    """Keywords occurring in text, ignoring occurrences inside a longer keyword's occurrence."""
    folded = text.upper()
    spans = []  # (start, end, keyword)
    for keyword in keywords:
        needle = keyword.upper()
        start = folded.find(needle)
        while start != -1:
            end = start + len(needle)
            if not _LATIN_WORD.match(keyword) or _whole_word(folded, start, end):
                spans.append((start, end, keyword))
            start = folded.find(needle, start + 1)
    return {
        keyword
        for start, end, keyword in spans
        if not any(
            s <= start and end <= e and e - s > end - start for s, e, _ in spans
        )
    }


def _whole_word(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())
