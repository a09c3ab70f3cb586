"""Mids of several dexes side by side, the catalog in force, and the watchlist order."""

from __future__ import annotations

from hlmon.protocol.messages import Message
from hlmon.state import Store
from hlmon.state.catalog_state import CatalogOrigin
from tests.catalogs import default_catalog

from .conftest import USER, FakeClock, clearinghouse, fill, msg, position


def mids(data: dict[str, str], dex: str | None = None) -> Message:
    body: dict[str, object] = {"mids": data}
    if dex is not None:
        body["dex"] = dex
    return msg("allMids", body)


class TestMidsByDex:
    def test_each_dex_keeps_its_own_map(self, store: Store, clock: FakeClock) -> None:
        """A default-dex push must not wipe xyz's mids, nor the other way round; each dex
        has its own freshness key and both change ``mids``."""
        store.apply(mids({"BTC": "100", "@107": "30"}))
        store.apply(mids({"xyz:TSLA": "432.1"}, "xyz"))
        assert store.take_changes() == {"mids"}
        clock.advance(1)
        store.apply(mids({"BTC": "101", "@107": "31"}))
        assert store.mid("xyz:TSLA") == "432.1"
        assert store.mid("BTC") == "101" and store.mid("@107") == "31"
        store.apply(mids({"xyz:TSLA": "433"}, "xyz"))
        assert store.mid("BTC") == "101" and store.mid("xyz:TSLA") == "433"
        assert dict(store.mids) == {"BTC": "101", "@107": "31", "xyz:TSLA": "433"}
        assert len(store.mids) == 3 and "xyz:TSLA" in store.mids and "xyz:NVDA" not in store.mids
        assert store.stamp("mids:xyz") is not None and store.stamp("mids") is not None
        assert store.mids_feed("xyz:TSLA") == "mids:xyz"
        assert store.mids_feed("BTC") == store.mids_feed("@107") == "mids"

    def test_hip3_position_marks_only_from_fresh_dex_mids(
        self, store: Store, clock: FakeClock
    ) -> None:
        """A HIP-3 position takes its mark from its dex's mids while those are fresh; the
        default dex's fresh mids say nothing about it."""
        store.apply(clearinghouse([position("xyz:TSLA", "2", "400", value="800")], dex="xyz"))
        store.apply(mids({"xyz:TSLA": "410"}, "xyz"))
        (view,) = store.positions()
        assert view.mark_px == "410" and view.mark_feed == "mids:xyz"
        clock.advance(store.threshold("mids") + 1)
        store.apply(mids({"BTC": "1"}))  # default dex fresh, xyz not
        (view,) = store.positions()
        assert view.mark_feed is None and view.mark_px == "400"


class TestCatalogState:
    def test_waiting_then_in_force_then_a_failed_reload(self, store: Store) -> None:
        state = store.catalog_state
        assert not state.status.waiting and store.catalog is None
        state.expect()
        assert state.status.waiting and "catalog" in store.take_changes()
        state.failed("HTTP 500")
        assert state.status.waiting and state.status.problem == "HTTP 500"
        catalog = default_catalog()
        state.use(catalog, from_cache=True, problem="HTTP 500")
        st = state.status
        assert not st.waiting and st.origin is CatalogOrigin.CACHE and store.catalog is catalog
        assert st.problem == "HTTP 500" and st.loaded_at == catalog.loaded_at
        state.use(catalog, from_cache=False)
        state.failed("timeout")  # a reload failed: the catalog in force stays
        st = state.status
        assert st.catalog is catalog and st.origin is CatalogOrigin.EXCHANGE and not st.waiting
        assert "catalog" in store.take_changes()

    def test_age_counts_from_the_answers(self, store: Store, clock: FakeClock) -> None:
        store.catalog_state.use(default_catalog(), from_cache=True)
        clock.advance(7200)
        assert store.catalog_state.age() == 7200

    def test_an_unlisted_name_in_frames_is_reported_once(self, store: Store) -> None:
        """allMids keys and fills naming a coin the catalog lacks (listed since it loaded)
        are told to the listener once each; known names never."""
        heard: list[str] = []
        store.catalog_state.on_unknown(heard.append)
        store.apply(mids({"BTC": "1", "NEWCOIN": "2"}))
        assert heard == []  # no catalog yet: nothing to compare with
        store.catalog_state.use(default_catalog(), from_cache=False)
        store.apply(mids({"BTC": "1", "NEWCOIN": "2"}))
        store.apply(mids({"BTC": "1", "NEWCOIN": "3"}))  # same size: not checked again
        store.apply(mids({"BTC": "1", "NEWCOIN": "3", "NEWER": "4"}))
        assert heard == ["NEWCOIN", "NEWER"]
        store.apply(msg("userFills", {"user": USER, "fills": [fill(1, 1, 5, coin="xyz:NEW")]}))
        store.apply(msg("userFills", {"user": USER, "fills": [fill(2, 2, 6, coin="BTC")]}))
        assert heard == ["NEWCOIN", "NEWER", "xyz:NEW"]
        assert store.catalog_state.unknown_names == {"NEWCOIN", "NEWER", "xyz:NEW"}


def test_watchlist_order_and_change_key(store: Store) -> None:
    """The first set_watch is always a change (even an empty one: every name was refused),
    later ones only when the list changed."""
    store.set_watch([])
    assert store.take_changes() == {"watchlist"} and not store.watchlist
    store.set_watch(["ETH", "BTC", "ETH"])
    assert list(store.watchlist) == ["ETH", "BTC"] and store.take_changes() == {"watchlist"}
    store.set_watch(["ETH", "BTC"])
    assert store.take_changes() == set()
