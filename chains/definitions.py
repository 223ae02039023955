"""Load and validate the chain definition files in ``chains/data/``.

Each ``<chain>.yaml`` holds one chain: its segments (环节) and the supplier → buyer links that
start or end in it. A link may point into another chain (``AL-FOIL-BATTERY → LB-CATHODE``);
``load_chain_file`` checks the codes with the file's own prefix, ``load_all`` checks the rest.

Every problem found in a file is collected and raised together as one ``DefinitionError``, so
an admin fixing a file sees the whole list at once, each line naming the file and the entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_DATA_DIR = Path(__file__).parent / "data"

TIERS = ("上游", "中游", "下游")

CHAIN_KEYS = ("code", "name", "name_en", "group", "version", "segments", "links")
SEGMENT_KEYS = ("code", "name", "name_en", "tier", "value_add", "products", "keywords")

# Column sizes of crm.catalog.models, so a file that loads here also fits the database.
MAX_CODE_LEN = 32
MAX_NAME_LEN = 50
MAX_NAME_EN_LEN = 100

CHAIN_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SEGMENT_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")


@dataclass(frozen=True)
class SegmentDef:
    code: str
    chain: str
    name: str
    name_en: str
    tier: str
    value_add: int
    products: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class ChainDef:
    code: str
    name: str
    name_en: str
    group: str
    version: str
    segments: tuple[SegmentDef, ...]
    links: tuple[tuple[str, str], ...]

    @property
    def prefix(self) -> str:
        return segment_prefix(self.segments[0].code) if self.segments else ""

    def segment(self, code: str) -> SegmentDef:
        for seg in self.segments:
            if seg.code == code:
                return seg
        raise KeyError(code)


class DefinitionError(ValueError):
    """One or more problems in chain definition files; ``errors`` lists them one per line."""

    def __init__(self, errors: Iterable[str]):
        self.errors: list[str] = list(errors)
        super().__init__("\n".join(self.errors))


def segment_prefix(code: str) -> str:
    """``AL-FOIL-BATTERY`` → ``AL``: the prefix says which chain a code belongs to."""
    return code.split("-", 1)[0]


def load_chain_file(path: str | Path) -> ChainDef:
    """Load one chain file and validate it on its own; raise DefinitionError listing every problem."""
    path = Path(path)
    chain, errors = _parse_file(path)
    if errors:
        raise DefinitionError(errors)
    assert chain is not None
    return chain


def load_all(directory: str | Path = DEFAULT_DATA_DIR) -> list[ChainDef]:
    """Load every ``*.yaml`` in ``directory`` (sorted by file name) and check them against each other."""
    directory = Path(directory)
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise DefinitionError([f"{directory}: 没有找到链定义文件 *.yaml"])

    errors: list[str] = []
    loaded: list[tuple[Path, ChainDef]] = []
    for path in paths:
        chain, file_errors = _parse_file(path)
        errors.extend(file_errors)
        if chain is not None:
            loaded.append((path, chain))
    errors.extend(_cross_file_errors(loaded, all_loaded=len(loaded) == len(paths)))
    if errors:
        raise DefinitionError(errors)
    return [chain for _, chain in loaded]


# --- one file ---------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that rejects a key given twice in one mapping (YAML would keep the last silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"重复的字段 {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _parse_file(path: Path) -> tuple[ChainDef | None, list[str]]:
    """Return (chain, errors); chain is None when the file is unusable or has errors."""
    where = path.name
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except (OSError, yaml.YAMLError) as exc:
        return None, [f"{where}: 无法读取 YAML：{exc}"]
    if not isinstance(data, dict):
        return None, [f"{where}: 文件顶层必须是一个映射（code, name, segments, links …）"]
    return parse_chain(data, where, file_stem=path.stem)


def _file_segment_label(where: str):
    def label(number: int, code: Any, key: str | None) -> str:
        return f"{where}: 环节 #{number} ({code})" if code else f"{where}: 环节 #{number}"
    return label


def _file_link_label(where: str):
    def label(number: int, source: Any, target: Any) -> str:
        return f"{where}: 链接 #{number} [{source} → {target}]" if source or target else f"{where}: 链接 #{number}"
    return label


def parse_chain(data: dict, where: str, *, file_stem: str | None = None,
                segment_label: Callable[[int, Any, str | None], str] | None = None,
                link_label: Callable[[int, Any, Any], str] | None = None,
                segment_position: Callable[[int], str] | None = None) -> tuple[ChainDef | None, list[str]]:
    """Validate one chain given as the data files' mapping: (chain, errors), chain None on any error.

    The one validator of a chain, whether it comes from a YAML file or from the Excel template
    (crm/chains/building.py). ``segment_label(number, code, field)`` and ``link_label(number, source,
    target)`` say where a problem is (环节 #3 in a file; 第 4 行 D 列 in a workbook).
    """
    segment_label = segment_label or _file_segment_label(where)
    link_label = link_label or _file_link_label(where)
    errors: list[str] = []
    errors += _unknown_keys(where, data, CHAIN_KEYS)

    code = data.get("code")
    if not isinstance(code, str) or not CHAIN_CODE_RE.match(code):
        errors.append(f"{where}: 链代码 code 必须是小写英文标识，实际为 {code!r}")
        code = file_stem or ""
    elif file_stem is not None and code != file_stem:
        errors.append(f"{where}: 链代码 code “{code}” 必须与文件名 {file_stem} 一致")
    elif len(code) > MAX_CODE_LEN:
        errors.append(f"{where}: 链代码 code 超过 {MAX_CODE_LEN} 个字符")

    name = _text(data, "name")
    if not name:
        errors.append(f"{where}: 缺少链名称 name")
    elif len(name) > MAX_NAME_LEN:
        errors.append(f"{where}: 链名称 name 超过 {MAX_NAME_LEN} 个字")
    name_en = _text(data, "name_en")
    group = _text(data, "group")
    for key in ("name_en", "group"):
        if key in data and data[key] is not None and not isinstance(data[key], str):
            errors.append(f"{where}: 字段 {key} 必须是字符串")

    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, (str, int, float)) or version == "":
        errors.append(f"{where}: 缺少版本 version（例如 \"2026.1\"）")
        version = ""
    version = str(version)  # YAML reads 2026.1 as a float; quote it in the file to keep "2026.10".

    raw_segments = data.get("segments")
    if not isinstance(raw_segments, list) or not raw_segments:
        errors.append(f"{where}: 环节 segments 必须是非空列表")
        raw_segments = []
    segments, declared, seg_errors = _parse_segments(where, code, raw_segments, segment_label,
                                                     segment_position or (lambda number: f"#{number}"))
    errors += seg_errors

    # Links are checked against every code declared, even one whose segment has other errors,
    # so that a missing name is reported once and not again for each of its links.
    prefix = segment_prefix(declared[0]) if declared else None
    raw_links = data.get("links", [])
    if raw_links is None:
        raw_links = []
    if not isinstance(raw_links, list):
        errors.append(f"{where}: 链接 links 必须是列表")
        raw_links = []
    links, link_errors = _parse_links(where, prefix, set(declared), raw_links, link_label)
    errors += link_errors

    if errors:
        return None, errors
    chain = ChainDef(
        code=code,
        name=name,
        name_en=name_en,
        group=group,
        version=version,
        segments=tuple(segments),
        links=tuple(links),
    )
    return chain, []


def _parse_segments(
    where: str, chain: str, raw: list[Any], segment_label: Callable[[int, Any, str | None], str],
    segment_position: Callable[[int], str] = lambda number: f"#{number}",
) -> tuple[list[SegmentDef], list[str], list[str]]:
    """Return (valid segments, every well-formed code declared, errors)."""
    errors: list[str] = []
    segments: list[SegmentDef] = []
    first_seen: dict[str, int] = {}
    prefix: str | None = None

    for number, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            errors.append(f"{segment_label(number, None, None)}: 必须是一个映射（code, name, tier …）")
            continue
        code = entry.get("code")
        problems: list[tuple[str | None, str]] = []  # (field, message)

        problems += [(None, msg) for msg in _unknown_keys("", entry, SEGMENT_KEYS)]
        if not isinstance(code, str) or not SEGMENT_CODE_RE.match(code):
            problems.append(("code", f"环节代码 code 必须形如 AL-BAUXITE（大写、带链前缀），实际为 {code!r}"))
        elif len(code) > MAX_CODE_LEN:
            problems.append(("code", f"环节代码 code 超过 {MAX_CODE_LEN} 个字符"))
        else:
            if prefix is None:
                prefix = segment_prefix(code)
            elif segment_prefix(code) != prefix:
                problems.append(("code", f"环节代码 code 的前缀必须与本链其他环节一致（{prefix}-）"))
            if code in first_seen:
                errors.append(f"{where}: 重复的环节代码 {code} (环节 {segment_position(first_seen[code])} "
                              f"与 {segment_position(number)})")
            else:
                first_seen[code] = number

        name = _text(entry, "name")
        if not name:
            problems.append(("name", "缺少名称 name"))
        elif len(name) > MAX_NAME_LEN:
            problems.append(("name", f"名称 name 超过 {MAX_NAME_LEN} 个字"))
        name_en = _text(entry, "name_en")
        if len(name_en) > MAX_NAME_EN_LEN:
            problems.append(("name_en", f"英文名称 name_en 超过 {MAX_NAME_EN_LEN} 个字符"))

        tier = entry.get("tier")
        if tier not in TIERS:
            shown = "（缺少）" if tier is None else f'"{tier}"'
            problems.append(("tier", f"层级 tier 必须是 {'/'.join(TIERS)}，实际为 {shown}"))

        value_add = entry.get("value_add")
        if isinstance(value_add, bool) or not isinstance(value_add, int) or not 1 <= value_add <= 5:
            shown = "（缺少）" if value_add is None else repr(value_add)
            problems.append(("value_add", f"价值层级 value_add 必须是 1–5 的整数，实际为 {shown}"))

        products, msgs = _word_list(entry, "products", "主要产品", min_len=1)
        problems += [("products", m) for m in msgs]
        keywords, msgs = _word_list(entry, "keywords", "关键词", min_len=2)
        problems += [("keywords", m) for m in msgs]

        errors += [f"{segment_label(number, code, key)}: {p}" for key, p in problems]
        if not problems and isinstance(code, str):
            segments.append(
                SegmentDef(
                    code=code,
                    chain=chain,
                    name=name,
                    name_en=name_en,
                    tier=tier,
                    value_add=value_add,
                    products=products,
                    keywords=keywords,
                )
            )
    return segments, list(first_seen), errors


def _parse_links(
    where: str, prefix: str | None, own_codes: set[str], raw: list[Any],
    link_label: Callable[[int, Any, Any], str],
) -> tuple[list[tuple[str, str]], list[str]]:
    errors: list[str] = []
    links: list[tuple[str, str]] = []
    first_seen: dict[tuple[str, str], int] = {}

    for number, entry in enumerate(raw, start=1):
        if (
            not isinstance(entry, (list, tuple))
            or len(entry) != 2
            or not all(isinstance(c, str) and c for c in entry)
        ):
            errors.append(f"{link_label(number, None, None)}: 必须是 [供应方, 采购方] 两个环节代码，实际为 {entry!r}")
            continue
        source, target = entry
        label = link_label(number, source, target)
        problems: list[str] = []
        if source == target:
            problems.append("环节不能链接到自身")
        for code in (source, target):
            # Codes with this chain's prefix must be defined here; others are checked by load_all.
            if prefix is not None and segment_prefix(code) == prefix and code not in own_codes:
                problems.append(f"未知环节代码 {code}")
        if prefix is not None and segment_prefix(source) != prefix and segment_prefix(target) != prefix:
            problems.append(f"两端都不属于本链（{prefix}-），应写在对应链的文件中")
        if (source, target) in first_seen:
            problems.append(f"重复的链接（与链接 #{first_seen[(source, target)]} 相同）")
        else:
            first_seen[(source, target)] = number
        errors += [f"{label}: {p}" for p in problems]
        if not problems:
            links.append((source, target))
    return links, errors


def _unknown_keys(where: str, mapping: dict, allowed: tuple[str, ...]) -> list[str]:
    head = f"{where}: " if where else ""
    return [
        f"{head}未知字段 {key!r}（可用字段：{', '.join(allowed)}）"
        for key in mapping
        if key not in allowed
    ]


def _text(mapping: dict, key: str) -> str:
    value = mapping.get(key)
    return value.strip() if isinstance(value, str) else ""


def _word_list(
    entry: dict, key: str, label: str, *, min_len: int
) -> tuple[tuple[str, ...], list[str]]:
    value = entry.get(key)
    if value is None:
        return (), []
    if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
        return (), [f"{label} {key} 必须是字符串列表，例如 [铝箔, 电池铝箔]"]
    words = [w.strip() for w in value]
    problems = []
    for word in words:
        # A one-character keyword such as 铝 would match almost every enterprise in the chain.
        if len(word) < min_len:
            problems.append(f"{label} {key} 中的 “{word}” 太短（至少 {min_len} 个字）")
    duplicates = sorted({w for w in words if words.count(w) > 1})
    if duplicates:
        problems.append(f"{label} {key} 中有重复项：{'、'.join(duplicates)}")
    return tuple(words), problems


# --- across files -----------------------------------------------------------------------


def _cross_file_errors(loaded: list[tuple[Path, ChainDef]], all_loaded: bool) -> list[str]:
    errors: list[str] = []
    owner: dict[str, tuple[str, int]] = {}  # segment code → (file name, 环节 number)
    prefixes: dict[str, str] = {}
    for path, chain in loaded:
        if chain.prefix in prefixes:
            errors.append(f"{path.name}: 环节前缀 {chain.prefix}- 已被 {prefixes[chain.prefix]} 使用")
        else:
            prefixes[chain.prefix] = path.name
        for number, seg in enumerate(chain.segments, start=1):
            if seg.code in owner:
                other, other_number = owner[seg.code]
                errors.append(
                    f"重复的环节代码 {seg.code} ({other} 环节 #{other_number} 与 "
                    f"{path.name} 环节 #{number})"
                )
            else:
                owner[seg.code] = (path.name, number)

    link_seen: dict[tuple[str, str], str] = {}
    for path, chain in loaded:
        for number, (source, target) in enumerate(chain.links, start=1):
            label = f"{path.name}: 链接 #{number} [{source} → {target}]"
            for code in (source, target):
                # When a file failed to load, its codes are unknown for now: say nothing of them.
                if code not in owner and (all_loaded or segment_prefix(code) in prefixes):
                    errors.append(f"{label}: 未知环节代码 {code}")
            if (source, target) in link_seen:
                errors.append(f"{label}: 重复的链接（{link_seen[(source, target)]} 中已定义）")
            else:
                link_seen[(source, target)] = path.name
    return errors
