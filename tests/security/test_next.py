"""After sign-in, ``next`` only ever leads to a relative path on this site (ASVS 5.1.5)."""
from __future__ import annotations

from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.accounts.service import safe_next_url
from tests import factories as f
from tests.security.conftest import code_for, enrol, sign_in

SITE = "https://lianzhao.example/login"

# The classic ways out of a site, and their disguises.
BAD_TARGETS = [
    "//evil.com", "///evil.com", "////evil.com", "/\\evil.com", "\\\\evil.com", "\\/evil.com", "/\\/evil.com",
    "http://evil.com", "http:///evil.com", "https:evil.com", "http:\\\\evil.com", "HTTPS://evil.com",
    "javascript:alert(1)", "java\nscript:alert(1)", "java\tscript:alert(1)", "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
    "/\x00/evil.com", "/\t/evil.com", "/\n/evil.com", "/\r/evil.com", "\x0b//evil.com", "\x7f//evil.com",
    "/\x85/evil.com", "/x\r\nSet-Cookie: a=b", " //evil.com", "\t//evil.com", "\n//evil.com",
    "evil.com", "evil.com/login", "@evil.com", "／／evil.com", "%2F%2Fevil.com", "", "/" + "a" * 2001,
]
# Paths of this site, which must survive untouched.
GOOD_TARGETS = ["/", "/projects/", "/projects/?stage=签约", "/projects/12", "/enterprises/?q=宏达&page=2",
                "/visits/#top", "/%2F%2Fevil.com", "/ /x", "/:/x", "/.evil.com", "/a//b"]


def _is_safe(result: str | None) -> bool:
    if result is None:
        return True
    if not result.startswith("/") or result.startswith("//") or "\\" in result:
        return False
    if any(ord(ch) < 32 or 127 <= ord(ch) <= 159 for ch in result):
        return False
    parts = urlsplit(result)
    if parts.scheme or parts.netloc:
        return False
    # Resolved against a page of the site, as a browser does, it stays on the site.
    return urlsplit(urljoin(SITE, result)).netloc == "lianzhao.example"


@pytest.mark.no_db
@pytest.mark.parametrize("target", BAD_TARGETS)
def test_classic_bad_targets_are_refused(target):
    assert safe_next_url(target) is None


@pytest.mark.no_db
@pytest.mark.parametrize("target", GOOD_TARGETS)
def test_paths_on_this_site_are_kept_as_they_are(target):
    assert safe_next_url(target) == target


@pytest.mark.no_db
@settings(max_examples=3000, deadline=None)
@given(st.text(max_size=300))
def test_any_string_gives_none_or_a_single_slash_path_on_this_site(target):
    result = safe_next_url(target)
    assert _is_safe(result)
    assert result is None or result == target


# Strings built from the pieces open redirects are made of, so the odd combinations get tried.
PIECES = ["/", "//", "\\", ":", "http", "https", "javascript", "evil.com", "@", ".", "%2f", "%5c", "?", "#",
          "\t", "\n", "\r", "\x00", "\x0b", "\x7f", "\x85", " ", "\u3000", "\u2028", "／", "＼", "a", "1"]


@pytest.mark.no_db
@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
def test_strings_made_of_redirect_pieces_are_safe_too(target):
    result = safe_next_url(target)
    assert _is_safe(result)
    assert result is None or result == target


# --- through the sign-in pages -------------------------------------------------------------------------


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_the_sign_in_form_sends_a_bad_target_to_the_dashboard(world, client, target):
    response = sign_in(client, "officer_a", next_url=target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["//evil.com", "/\\evil.com", "http:///evil.com", "java\nscript:alert(1)"])
def test_the_second_factor_step_sends_a_bad_target_to_the_dashboard(world, login_as, fresh_client, target):
    enrol(login_as(world.officer_a), world.officer_a)
    client = fresh_client()
    assert sign_in(client, "officer_a", next_url=target).headers["Location"] == "/login/2fa"
    response = client.post("/login/2fa", data={"code": code_for(world.officer_a.totp_secret, 1)})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_second_factor_step_keeps_a_good_target(world, login_as, fresh_client):
    enrol(login_as(world.officer_a), world.officer_a)
    client = fresh_client()
    sign_in(client, "officer_a", next_url="/visits/")
    assert client.post("/login/2fa", data={"code": code_for(world.officer_a.totp_secret, 1)}).headers[
        "Location"] == "/visits/"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.one_of(st.text(max_size=60), st.lists(st.sampled_from(PIECES), max_size=8).map("".join)))
def test_any_generated_target_through_the_form_lands_on_this_site(world, app, target):
    from tests.conftest import FreshContextClient

    client = FreshContextClient(app, app.response_class, use_cookies=True)
    response = client.post("/login?" + urlencode({"next": target}),
                           data={"username": "officer_a", "password": f.PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert _is_safe(location)
