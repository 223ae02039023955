"""Enterprise names: normalisation for duplicate detection, pinyin keys for search, credit codes."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.core import Pinyin
from stdnum.cn import uscc as uscc_lib
from stdnum.exceptions import ValidationError

PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽",
    "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西",
    "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
)
_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "集团股份", "集团", "股份", "公司")
_PREFIX = re.compile(
    "^(?:(?:" + "|".join(PROVINCES) + r")(?:省|市|自治区|壮族自治区|回族自治区|维吾尔自治区|特别行政区)?)?"
    r"(?:[\u4e00-\u9fff]{2,3}(?:市|州|盟|地区))?"
)
_BRACKETED = re.compile(r"[(（]\s*(?:中国|集团|[\u4e00-\u9fff]{2,4}(?:省|市))\s*[)）]")


def to_halfwidth(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def comparable(text: str) -> str:
    """Text as it is compared: NFKC (full-width to half-width, compatibility forms folded) with format
    and zero-width characters removed (U+200B, U+FEFF, bidi marks: category Cf), so a look-alike name
    with an invisible character compares equal to the real one."""
    text = to_halfwidth(text or "")
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


@lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """The part of a company name that identifies it: no region prefix, no legal form, no spaces."""
    text = comparable(name).strip()
    text = _BRACKETED.sub("", text)
    text = re.sub(r"\s+", "", text)
    text = _PREFIX.sub("", text, count=1) or text
    changed = True
    while changed:
        changed = False
        for form in _LEGAL_FORMS:
            if text.endswith(form) and len(text) > len(form):
                text = text[: -len(form)]
                changed = True
    return text.lower()


_SEGMENTER = Pinyin()


@lru_cache(maxsize=65536)
def _word_syllables(word: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(word, style=Style.NORMAL, v_to_u=False))


def _syllables(text: str) -> list[str]:
    """``lazy_pinyin(text)``: pypinyin converts the words of its own segmentation one by one, so the words
    (有限公司, 科技, 铝业 … recur in every ledger) are converted once and remembered."""
    return [syllable for word in _SEGMENTER.seg(text) for syllable in _word_syllables(word)]


def pinyin_keys(*names: str) -> str:
    """Full pinyin and initials of each name, space-separated, for LIKE search: 铝业 → 'lvye ly'."""
    keys = []
    for name in names:
        if not name:
            continue
        syllables = _syllables(to_halfwidth(name))
        syllables = [s.lower() for s in syllables if s.isascii() and s.isalnum()]
        if syllables:
            keys.append("".join(syllables))
            keys.append("".join(s[0] for s in syllables))
    return " ".join(keys)


def fold_case(text: str) -> str:
    """ASCII letters lower-cased, every other character kept: the case folding both databases' LIKE
    stays within (PostgreSQL's is case-sensitive, SQLite's folds ASCII only), so grams of the folded
    text find every row either LIKE matches."""
    return "".join(ch.lower() if ch.isascii() else ch for ch in text)


def bigrams(text: str) -> set[str]:
    """Every two-character piece of ``text`` after ``fold_case``."""
    folded = fold_case(text or "")
    return {folded[i:i + 2] for i in range(len(folded) - 1)}


def search_grams(name: str, aliases: str) -> set[str]:
    """The search index rows of one enterprise: the bigrams of its name and of its aliases, each field on
    its own (a term found in a field has all its bigrams among that field's). The pinyin keys are not
    indexed: they are Latin, searched only by Latin terms, which the trigram indexes serve on PostgreSQL,
    and they would be three quarters of the rows."""
    return bigrams(name) | bigrams(aliases)


def clean_uscc(value: str | None) -> str | None:
    """A validated 统一社会信用代码, upper-cased; None when blank. Raises ValueError in Chinese."""
    if value is None:
        return None
    text = to_halfwidth(value).strip().upper().replace(" ", "")
    if not text:
        return None
    if _valid_uscc(text):  # the common case, without python-stdnum's per-character cleaning
        return text
    try:
        return uscc_lib.validate(text)
    except ValidationError as error:
        raise ValueError(f"统一社会信用代码“{value}”无效：{_uscc_reason(error)}") from error


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}")


def _valid_uscc(text: str) -> bool:
    """GB 32100-2015 as python-stdnum checks it (18 characters, 8 digits, the alphabet, the check digit);
    a False sends the code to python-stdnum for the reason."""
    if not _USCC_SHAPE.fullmatch(text):
        return False
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(text, _USCC_WEIGHTS))
    return text[-1] == _USCC_ALPHABET[(31 - total) % 31]


def _uscc_reason(error: ValidationError) -> str:
    name = type(error).__name__
    return {
        "InvalidLength": "应为 18 位",
        "InvalidFormat": "含有不允许的字符",
        "InvalidChecksum": "校验位不正确",
    }.get(name, "格式不正确")
