"""Tokens (forged, expired, revoked), sessions and CSRF, and throttling — on the store."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from tests.auth_support import PASSWORD, user

from xiaowei.security import throttle
from xiaowei.security.sessions import (
    SessionError,
    close_session,
    cookie_attributes,
    csrf_matches,
    find_session,
    open_session,
)
from xiaowei.security.signin import SignInFailed, sign_in
from xiaowei.security.tokens import TokenError, create_token, revoke_token, verify_token
from xiaowei.security.users import disable_user
from xiaowei.store.database import transaction
from xiaowei.store.tables import ApiToken, AppUser

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _li(store: Engine) -> AppUser:
    user(store, "li.na", "approver", branch="B1")
    with transaction(store) as session:
        return session.scalars(select(AppUser).where(AppUser.name == "li.na")).one()


def test_token_round_trip_stores_only_a_hash(store: Engine) -> None:
    li = _li(store)
    with transaction(store) as session:
        issued = create_token(session, li, ["customers"], now=NOW)
    with transaction(store) as session:
        row = session.get_one(ApiToken, issued.token_id)
        assert issued.bearer.split(".", 1)[1] not in row.secret_sha256
        found, token_row = verify_token(session, issued.bearer, now=NOW)
        assert found.name == "li.na" and token_row.scopes == ["customers"]


@pytest.mark.parametrize("mangle", [
    lambda b: b[:-1] + ("A" if b[-1] != "A" else "B"),  # forged secret
    lambda b: "xw_0000000000000000." + b.split(".", 1)[1],  # unknown id
    lambda b: b.replace("xw_", ""), lambda b: "", lambda b: "xw_.",
])
def test_forged_tokens_are_refused(store: Engine, mangle) -> None:  # type: ignore[no-untyped-def]
    li = _li(store)
    with transaction(store) as session:
        bearer = create_token(session, li, ["*"], now=NOW).bearer
    with transaction(store) as session, pytest.raises(TokenError, match="not valid"):
        verify_token(session, mangle(bearer), now=NOW)


def test_expired_revoked_and_disabled_are_refused(store: Engine) -> None:
    li = _li(store)
    with transaction(store) as session:
        issued = create_token(session, li, ["*"], lifetime=dt.timedelta(hours=1), now=NOW)
    with transaction(store) as session, pytest.raises(TokenError, match="expired"):
        verify_token(session, issued.bearer, now=NOW + dt.timedelta(hours=1, seconds=1))
    with transaction(store) as session:
        revoke_token(session, issued.token_id, now=NOW)
    with transaction(store) as session, pytest.raises(TokenError, match="revoked"):
        verify_token(session, issued.bearer, now=NOW)
    with transaction(store) as session:
        fresh = create_token(session, li, ["*"], now=NOW).bearer
    disable_user(store, "li.na")
    with transaction(store) as session, pytest.raises(TokenError, match="disabled"):
        verify_token(session, fresh, now=NOW)


def test_bad_scopes_and_lifetimes_are_refused(store: Engine) -> None:
    li = _li(store)
    with transaction(store) as session:
        with pytest.raises(TokenError, match="at least one scope"):
            create_token(session, li, [])
        with pytest.raises(ValueError, match="unknown scope"):
            create_token(session, li, ["everything"])
        with pytest.raises(TokenError, match="366 days"):
            create_token(session, li, ["*"], lifetime=dt.timedelta(days=400))


def test_sessions_carry_a_csrf_token_and_end_at_logout(store: Engine) -> None:
    li = _li(store)
    with transaction(store) as session:
        opened = open_session(session, li, now=NOW)
    with transaction(store) as session:
        _, row = find_session(session, opened.cookie, now=NOW)
        assert csrf_matches(row, opened.csrf_token)
        assert not csrf_matches(row, None) and not csrf_matches(row, opened.cookie)
        with pytest.raises(SessionError, match="expired"):
            find_session(session, opened.cookie, now=NOW + dt.timedelta(hours=9))
        assert close_session(session, opened.cookie)
    with transaction(store) as session, pytest.raises(SessionError, match="signed out"):
        find_session(session, opened.cookie, now=NOW)
    attrs = cookie_attributes(dt.datetime.now(dt.UTC) + dt.timedelta(hours=8))
    assert (attrs["secure"], attrs["httponly"], attrs["samesite"]) == (True, True, "strict")


def test_five_failures_throttle_the_name_until_the_window_passes(store: Engine) -> None:
    _li(store)
    for n in range(5):
        with pytest.raises(SignInFailed):
            sign_in(store, "li.na", "wrong password!", now=NOW + dt.timedelta(seconds=n))
    later = NOW + dt.timedelta(minutes=1)
    with pytest.raises(throttle.Throttled) as caught:
        sign_in(store, "LI.NA", PASSWORD, now=later)  # even the right password waits
    assert caught.value.retry_after == 14 * 60  # until the first failure leaves the window
    assert sign_in(store, "li.na", PASSWORD, now=NOW + dt.timedelta(minutes=15, seconds=1))


def test_unknown_names_are_throttled_alike(store: Engine) -> None:
    for n in range(5):
        with pytest.raises(SignInFailed):
            sign_in(store, "nobody", "whatever-password", now=NOW + dt.timedelta(seconds=n))
    with pytest.raises(throttle.Throttled):
        sign_in(store, "nobody", "whatever-password", now=NOW + dt.timedelta(seconds=10))


def test_a_success_restarts_the_count(store: Engine) -> None:
    _li(store)
    for n in range(4):
        with pytest.raises(SignInFailed):
            sign_in(store, "li.na", "wrong password!", now=NOW + dt.timedelta(seconds=n))
    sign_in(store, "li.na", PASSWORD, now=NOW + dt.timedelta(seconds=5))
    for n in range(4):
        with pytest.raises(SignInFailed):
            sign_in(store, "li.na", "wrong password!", now=NOW + dt.timedelta(seconds=6 + n))
    assert sign_in(store, "li.na", PASSWORD, now=NOW + dt.timedelta(seconds=20)).name == "li.na"
