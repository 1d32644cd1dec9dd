"""The playground's pages against the misbehaving OpenID provider (tests/bad_op.py), one defect at a
time: each defect is shown as the failed check it is, nothing calls the result valid, and after a
failure the playground makes no call on its own."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from playground import create_app

from .bad_op import CLIENT_ID, CLIENT_SECRET, OTHER_SUB, SUB
from .codeflow import CALLBACK, FORM, authorization_url, code_form, page_form
from .test_idtoken import CASES
from .test_playground import text


@pytest.fixture
def playground():
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()


def form_for(op, **fields) -> dict[str, str]:
    """The code grant's form aimed at the provider's own paths."""
    return code_form(
        op.issuer,
        CLIENT_ID,
        CLIENT_SECRET,
        authorization_endpoint=op.authorization_endpoint,
        token_endpoint=op.token_endpoint,
        userinfo_endpoint=op.userinfo_endpoint,
        logout_endpoint=op.issuer + "/logout",
        jwks_uri=op.jwks_uri,
        issuer=op.issuer,
        introspection_endpoint="",
        revocation_endpoint="",
        **fields,
    )


def to_callback(playground, op, **fields):
    """Authorize in the playground; the provider answers at once; the browser brings the answer back."""
    authorize = playground.post(FORM, data=form_for(op, **fields))
    assert authorize.status_code == 200, text(authorize)[:2000]
    answer = requests.get(authorization_url(authorize), allow_redirects=False, timeout=10)
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK)
    return playground.get(urlsplit(CALLBACK).path, query_string=dict(parse_qsl(urlsplit(location).query)))


def failed_checks(html: str) -> set[str]:
    return set(re.findall(r'<li class="fail">\s*<strong>✗ ([^<]+)</strong>', html))


PAGE_CASES = [(defect, max_age, failures) for defect, max_age, overrides, failures in CASES if not overrides]


@pytest.mark.parametrize("defect, max_age, failures", PAGE_CASES, ids=[c[0] for c in PAGE_CASES])
def test_each_id_token_defect_is_shown_as_its_failed_check(
    playground, bad_op_server, defect, max_age, failures
):
    bad_op_server.set(defect)
    fields = {"max_age": str(max_age)} if max_age else {}
    callback = to_callback(playground, bad_op_server, **fields)
    assert callback.status_code == 200, text(callback)[:2000]
    seen_before = len(bad_op_server.requests)
    tokens = playground.post("/playground2/token", data=page_form(callback, "get_access_token"))
    html = tokens.get_data(as_text=True)
    assert tokens.status_code == 200, text(tokens)[:3000]
    assert set(failures) <= failed_checks(html), failed_checks(html)
    # Nothing calls it valid: not the verdict, not the badge, not the title.
    assert "ID token not valid: " in html and "every check passed" not in html
    assert '<span class="badge ok">valid</span>' not in html
    assert "ID token not valid · " in re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    # After the failure: the token request and at most one JWKS fetch and its one refetch, nothing else.
    paths = [seen.path for seen in bad_op_server.requests[seen_before:]]
    assert paths.count("/token") == 1 and set(paths) <= {"/token", "/jwks"}, paths
    assert paths.count("/jwks") <= 2, paths


def test_good_tokens_are_valid_on_the_page(playground, bad_op_server):
    """The same page with nothing wrong: the defects above are what makes each fail."""
    bad_op_server.set(None, azp=True)
    callback = to_callback(playground, bad_op_server)
    tokens = playground.post("/playground2/token", data=page_form(callback, "get_access_token"))
    html = tokens.get_data(as_text=True)
    assert "ID token valid: every check passed" in html and failed_checks(html) == set()


def test_userinfo_of_another_subject_is_a_failed_check(playground, bad_op_server):
    callback = to_callback(playground, bad_op_server)
    tokens = playground.post("/playground2/token", data=page_form(callback, "get_access_token"))
    assert "ID token valid: every check passed" in text(tokens)
    bad_op_server.set("userinfo_other_sub")
    userinfo = playground.post("/playground2/userinfo", data=page_form(tokens, "get_userinfo"))
    html = userinfo.get_data(as_text=True)
    assert "UserInfo subject" in failed_checks(html), failed_checks(html)
    assert OTHER_SUB in text(userinfo) and SUB in text(userinfo)


@pytest.mark.parametrize(
    "defect, fields, check, words",
    [
        ("wrong_state", {}, "state", "'not-the-state'"),
        ("missing_state", {}, "state", "no state"),
        ("wrong_iss_param", {}, "iss", "https://issuer.invalid"),
        # RFC 9207 §2.4: when the metadata says the server sends iss, an answer without it is refused.
        ("missing_iss_param", {"iss_supported": "true"}, "iss", "RFC 9207"),
    ],
)
def test_authorization_response_defects_stop_the_flow(
    playground, bad_op_server, defect, fields, check, words
):
    bad_op_server.set(defect)
    callback = to_callback(playground, bad_op_server, **fields)
    html = callback.get_data(as_text=True)
    assert callback.status_code == 400
    assert check in failed_checks(html) and words in text(callback)
    assert "The flow stops here" in text(callback) and "Get Access Token" not in text(callback)
    assert not [seen for seen in bad_op_server.requests if seen.path == "/token"]


def implicit_at(playground, op, response_type="id_token token", **fields):
    """Implicit: Authorize, the provider answers in the fragment, the callback page's script posts it."""
    authorize = playground.post(
        FORM, data=form_for(op, grant_type="implicit", implicit_response_type=response_type, **fields)
    )
    assert authorize.status_code == 200, text(authorize)[:2000]
    assert "code_challenge" not in authorization_url(authorize)
    answer = requests.get(authorization_url(authorize), allow_redirects=False, timeout=10)
    fragment = urlsplit(answer.headers["Location"]).fragment
    assert fragment and "access_token" in fragment or response_type == "id_token"
    return playground.post(urlsplit(CALLBACK).path, data={"fragment": fragment})


@pytest.mark.parametrize("response_type", ["id_token token", "id_token"])
def test_implicit_tokens_are_checked_on_the_page(playground, bad_op_server, response_type):
    tokens = implicit_at(playground, bad_op_server, response_type)
    body = text(tokens)
    assert tokens.status_code == 200, body[:3000]
    assert "Tokens received" in body and "ID token valid: every check passed" in body
    assert "✓ state" in body and "RFC 9700 §2.1.2" in body
    assert ("Access token" in body) == (response_type == "id_token token")
    assert not [seen for seen in bad_op_server.requests if seen.path == "/token"]  # no token request


def test_implicit_without_at_hash_is_not_valid(playground, bad_op_server):
    bad_op_server.set("missing_at_hash")
    html = implicit_at(playground, bad_op_server).get_data(as_text=True)
    assert "at_hash" in failed_checks(html) and "every check passed" not in html


def test_implicit_with_a_wrong_nonce_is_not_valid(playground, bad_op_server):
    bad_op_server.set("wrong_nonce")
    html = implicit_at(playground, bad_op_server).get_data(as_text=True)
    assert "Nonce" in failed_checks(html) and "every check passed" not in html


def test_implicit_needs_openid_for_an_id_token(playground, bad_op_server):
    response = playground.post(
        FORM,
        data=form_for(bad_op_server, grant_type="implicit", implicit_response_type="id_token", scope="read"),
    )
    assert response.status_code == 400 and "needs openid in the scope" in text(response)
