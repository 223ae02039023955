"""The house rules: features import each other one way, and pure modules import no Flask or database."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from config import BASE_DIR

pytestmark = pytest.mark.no_db

# Lowest first. A feature's models and services import only features before it; its views and forms
# (the edge, where a page composes several features) may also read features after it, never their views.
# Pure rule modules depend on nothing, so any feature may read them (the library reads the stages).
FEATURES = ("accounts", "audit", "catalog", "library", "pipeline", "visits", "ledger", "chains", "imports",
            "jobs", "land", "compliance", "efficiency", "service", "dashboard", "admin", "api")
EDGE_MODULES = {"views.py", "forms.py", "commands.py"}
# Pure rules: no Flask, no SQLAlchemy, no database, no app package outside other pure modules.
PURE_MODULES = ("chains", "crm/fields.py", "crm/pipeline/lifecycle.py", "crm/ledger/figures.py",
                "crm/imports/reading.py", "crm/library/names.py", "crm/land/indicators.py",
                "crm/compliance/rules.py", "crm/efficiency/method.py", "crm/efficiency/columns.py",
                "crm/service/rules.py", "crm/audit/readable.py")
IMPURE_ROOTS = ("flask", "flask_login", "flask_wtf", "sqlalchemy", "crm.extensions", "crm.db", "wtforms")
PURE_CRM_ALLOWED = ("crm.pipeline.lifecycle", "crm.ledger.figures", "crm.fields", "crm.imports.reading",
                    "crm.library.names", "crm.imports.headers", "crm.land.indicators", "crm.compliance.rules",
                    "crm.efficiency.method", "crm.efficiency.columns", "crm.service.rules",
                    "crm.audit.readable")


def _imports(path: Path) -> list[str]:
    """Every module a file imports, at the top or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def _feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "crm" and parts[1] in FEATURES else None


def _files(feature: str):
    return sorted((BASE_DIR / "crm" / feature).rglob("*.py"))


@pytest.mark.parametrize("feature", FEATURES)
def test_features_import_one_way(feature):
    rank = FEATURES.index(feature)
    wrong = []
    for path in _files(feature):
        edge = path.name in EDGE_MODULES
        for module in _imports(path):
            other = _feature_of(module)
            if other is None or other == feature:
                continue
            pure = any(module == m or module.startswith(m + ".") for m in PURE_CRM_ALLOWED)
            if FEATURES.index(other) > rank and not edge and not pure:
                wrong.append(f"{path.relative_to(BASE_DIR)} imports {module}")
            if edge and module.split(".")[2:3] and module.split(".")[2] in {"views", "forms"} and other != feature:
                wrong.append(f"{path.relative_to(BASE_DIR)} imports another feature's {module}")
    assert wrong == []


def _pure_files():
    for entry in PURE_MODULES:
        path = BASE_DIR / entry
        yield from (sorted(path.rglob("*.py")) if path.is_dir() else [path])


@pytest.mark.parametrize("path", list(_pure_files()), ids=lambda p: str(p.relative_to(BASE_DIR)))
def test_pure_modules_import_no_flask_or_database(path):
    wrong = [m for m in _imports(path)
             if m.split(".")[0] in {r.split(".")[0] for r in IMPURE_ROOTS if "." not in r} or
             any(m == r or m.startswith(r + ".") for r in IMPURE_ROOTS) or
             (m.startswith("crm.") and not any(m == a or m.startswith(a + ".") for a in PURE_CRM_ALLOWED)
              and m != "crm")]
    assert wrong == []


def test_no_layer_folders_remain():
    """The layer split (crm/models, crm/services) is gone: a feature's code is in its folder."""
    assert not (BASE_DIR / "crm" / "models").exists()
    assert not (BASE_DIR / "crm" / "services").exists()
