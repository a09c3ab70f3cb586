"""NATS subjects: the escaping rule round-trips every name shape, subjects round-trip every
subscription hlmon makes, and the JetStream stream filters split them as documented."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hlmon.feeds.nats_endpoint import NatsEndpoint
from hlmon.feeds.nats_subjects import (
    control_subject,
    delivery_of,
    escape_token,
    stream_subjects,
    subject_of,
    subscription_of,
    unescape_token,
)
from hlmon.keyguard import looks_like_key
from hlmon.protocol import subscriptions as subs
from hlmon.protocol.subscriptions import Subscription
from hlmon.sim.universe import Universe

NET = "custom-4ad4d5e533"
USER = "0x" + "ab12" * 10
SAFE_TOKEN = re.compile(r"[A-Za-z0-9_-]+")

SHAPES = {
    "BTC": "BTC",
    "kPEPE": "kPEPE",
    "@107": "_40107",
    "PURR/USDC": "PURR_2FUSDC",
    "#90": "_2390",
    "xyz:TSLA": "xyz_3ATSLA",
    "a_b": "a_5Fb",
    "1000-X": "1000-X",
    "a.b*c>d e": "a_2Eb_2Ac_3Ed_20e",
    "é": "_C3_A9",
}


@pytest.mark.parametrize(("name", "token"), sorted(SHAPES.items()))
def test_escaping_is_the_documented_rule(name: str, token: str) -> None:
    assert escape_token(name) == token
    assert unescape_token(token) == name


def test_every_simulator_catalog_name_round_trips() -> None:
    universe = Universe()
    names = [*universe.by_name, *(d for d in universe.dex_names if d)]
    assert {"@107", "PURR/USDC", "xyz:TSLA", "#90", "kPEPE"} <= set(names)
    for name in names:
        token = escape_token(name)
        assert SAFE_TOKEN.fullmatch(token), (name, token)
        assert unescape_token(token) == name
        for sub in (subs.l2_book(name), subs.trades(name), subs.active_asset_ctx(name)):
            subject = subject_of(NET, sub)
            assert subject is not None
            assert subscription_of(NET, subject).key == sub.key


@given(st.text(min_size=1, max_size=40))
def test_any_name_round_trips_to_a_safe_token(name: str) -> None:
    token = escape_token(name)
    assert SAFE_TOKEN.fullmatch(token)
    assert unescape_token(token) == name


@pytest.mark.parametrize("bad", ["", "a.b", "_4", "_zz", "_41", "a b", "x>"])
def test_tokens_not_written_by_the_rule_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        unescape_token(bad)


EVERY_SUBSCRIPTION = [
    subs.l2_book("BTC"),
    subs.l2_book("xyz:TSLA", n_sig_figs=5, mantissa=2),
    subs.l2_book("@107", fast=True),
    subs.bbo("PURR/USDC"),
    subs.trades("#90"),
    subs.candle("kPEPE", "1M"),
    subs.active_asset_ctx("@1"),
    subs.all_mids(),
    subs.all_mids("xyz"),
    subs.all_mids("main"),
    subs.active_asset_data(USER, "BTC"),
    subs.clearinghouse_state(USER),
    subs.clearinghouse_state(USER, "flx"),
    subs.all_dexs_clearinghouse_state(USER),
    subs.open_orders(USER, "xyz"),
    subs.order_updates(USER),
    subs.user_events(USER),
    subs.user_fills(USER),
    subs.user_fills(USER, aggregate_by_time=True),
    subs.user_fundings(USER),
    subs.user_non_funding_ledger_updates(USER),
    subs.spot_state(USER, ignore_portfolio_margin=True),
    subs.twap_states(USER),
    subs.user_twap_slice_fills(USER),
    subs.user_twap_history(USER),
    subs.web_data3(USER),
    subs.notification(USER),
]


@pytest.mark.parametrize("sub", EVERY_SUBSCRIPTION, ids=lambda s: s.key)
def test_subjects_round_trip_and_land_in_one_stream(sub: Subscription) -> None:
    subject = subject_of(NET, sub)
    assert subject is not None and subject.startswith(f"hl.{NET}.")
    assert all(SAFE_TOKEN.fullmatch(t) for t in subject.split(".")[2:]), subject
    assert subscription_of(NET, subject).key == sub.key
    delivery = delivery_of(sub.type)
    kept = {
        d for d in ("events", "last") if any(_matches(f, subject) for f in stream_subjects(NET, d))
    }
    assert kept == (set() if delivery == "core" else {delivery})


def test_the_documented_subjects() -> None:
    assert subject_of(NET, subs.l2_book("BTC")) == f"hl.{NET}.book.BTC"
    assert subject_of(NET, subs.all_mids()) == f"hl.{NET}.mids.main"
    assert subject_of(NET, subs.all_mids("main")) == f"hl.{NET}.mids._6Dain"
    assert subject_of(NET, subs.active_asset_ctx("xyz:TSLA")) == f"hl.{NET}.ctx.xyz_3ATSLA"
    assert subject_of(NET, subs.user_fills(USER)) == f"hl.{NET}.user.{USER}.fills"
    assert subject_of(NET, subs.order_updates(USER)) == f"hl.{NET}.user.{USER}.orders"
    assert subject_of(NET, subs.clearinghouse_state(USER)) == f"hl.{NET}.user.{USER}.state"
    book = subject_of(NET, subs.l2_book("BTC", n_sig_figs=5, mantissa=2))
    assert book == f"hl.{NET}.book.BTC.mantissa-2.nSigFigs-5"
    assert delivery_of("userFills") == "events" and delivery_of("trades") == "core"
    assert delivery_of("l2Book") == "last" and delivery_of("nope") is None
    assert subject_of(NET, Subscription("nope", (("coin", "BTC"),))) is None
    assert _matches(stream_subjects(NET, "last")[-1], control_subject(NET, "_daemon"))


@pytest.mark.parametrize(
    "subject",
    [
        f"hl.{NET}.book",
        f"hl.{NET}.book.BTC.depth-3",
        f"hl.{NET}.book.BTC.nSigFigs-05",
        f"hl.{NET}.user.{USER.upper()}.fills",
        f"hl.{NET}.user.{USER}.nope",
        f"hl.{NET}.nope.BTC",
        "hl.other.book.BTC",
    ],
)
def test_subjects_that_name_no_stream_are_refused(subject: str) -> None:
    with pytest.raises(ValueError):
        subscription_of(NET, subject)


def test_endpoint_keeps_credentials_out_of_what_is_shown() -> None:
    ep = NatsEndpoint.parse("nats://s3cret@nats.desk:4223/mainnet")
    assert ep.display == "nats://nats.desk:4223" and ep.network == "mainnet"
    assert ep.token == "s3cret" and "s3cret" not in repr(ep)
    assert ep.connect_options() == {"servers": ["nats://nats.desk:4223"], "token": "s3cret"}
    userpass = NatsEndpoint.parse("tls://alice:pw%40x@[::1]")
    assert userpass.display == "tls://[::1]:4222"
    assert (userpass.user, userpass.password, userpass.token) == ("alice", "pw@x", None)
    assert NatsEndpoint.parse("nats://a@h", token="b").token == "b"  # the option wins
    key = "ab" * 32
    for bad in (f"nats://{key}@h", "http://h:4222", "nats://", "nats://h:99999", "nats://h?x=1"):
        with pytest.raises(ValueError) as info:
            NatsEndpoint.parse(bad)
        assert not looks_like_key(str(info.value))


def _matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` one token, ``>`` one or more at the end."""
    want, got = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(got) > i
        if i >= len(got) or (token != "*" and token != got[i]):
            return False
    return len(got) == len(want)
