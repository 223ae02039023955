"""Hostile ids, pages, years and months on every GET route, in the path and in the query string.

Routes are discovered from ``app.url_map``, so a new route is covered without being listed. Each path
argument that is a number gets ids past the databases' integer keys (2^31 and 2^63), Unicode digits and huge numbers; each
query string gets the parameters the pages read (zone_id, owner_id, segment_id, page, signed_year,
year, month, …) with the same values. Nothing may answer 5xx; an impossible id in a path is a 404.
"""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm import create_app
from tests.fuzz.conftest import STATS
from tests.fuzz.test_hostile_input import fuzz_env  # noqa: F401 - the shared fixture

EXAMPLES = 12
HOSTILE_NUMBERS = (
    str(2**31), str(2**31 - 1), str(2**63), str(2**63 - 1), str(2**64), "9" * 400, "-1", "0", "²", "①", "١٢", "1e3", "0x10", " 7", "sNaN",
    "NaN", "inf", "1.5", "", "9999-12", "0000-01", "2026-13", "2026-00", "10000-01", "99999",
)
QUERY_NAMES = ("zone_id", "owner_id", "segment_id", "page", "signed_year", "signed_month", "year", "month",
               "enterprise_id", "project_id", "actor_id", "entity_id", "reached", "overdue", "stage", "sort")


def _get_routes():
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted(r.rule for r in app.url_map.iter_rules()
                  if "GET" in r.methods and r.endpoint != "static" and not r.rule.startswith("/auth/logout"))


GET_ROUTES = _get_routes()
INT_ROUTES = [rule for rule in GET_ROUTES if "<int:" in rule]


@pytest.mark.parametrize("rule", INT_ROUTES)
def test_an_impossible_id_in_a_path_is_404(rule, fuzz_env):  # noqa: F811
    client = fuzz_env["clients"]["admin"]
    targets = fuzz_env["targets"]
    for hostile in (str(2**31), str(2**63), str(2**64), "9" * 400, quote("²"), quote("①"), quote("١٢")):
        path = re.sub(r"<int:[^>]+>", hostile, rule)
        path = targets.fill(path) or re.sub(r"<[^>]+>", "x", path)
        STATS["cases"] += 1
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("rule", GET_ROUTES)
def test_hostile_query_parameters_make_no_server_error(rule, fuzz_env):  # noqa: F811
    targets = fuzz_env["targets"]
    path = targets.fill(rule)
    if path is None:
        pytest.skip(STATS["skipped"][rule])
    clients = fuzz_env["clients"]

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(who=st.sampled_from(["admin", "officer"]),
           query=st.dictionaries(st.sampled_from(QUERY_NAMES), st.sampled_from(HOSTILE_NUMBERS), min_size=1, max_size=4))
    def case(who, query):
        response = clients[who].get(path, query_string=query)
        STATS["cases"] += 1
        assert response.status_code < 500, (who, path, query, response.status_code)

    case()
