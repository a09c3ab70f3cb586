"""The catalog loader against an /info answered by ``httpx.MockTransport`` with bodies shaped like
the exchange's (the recorded perpDexs, meta and spotMeta samples, read in place), and the disk
cache."""

from __future__ import annotations

import copy
import json
import os
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from hlmon.feeds import catalog_keeper
from hlmon.feeds.catalog_keeper import CatalogKeeper
from hlmon.feeds.catalog_loader import (
    CACHE_FILE_NAME,
    load_catalog,
    load_or_cached,
    read_catalog_cache,
    write_catalog_cache,
)
from hlmon.feeds.info_client import InfoClient, InfoUnavailable, ServerError
from hlmon.state import Store
from hlmon.state.catalog import MarketCatalog, MarketKind, ResolveError
from tests.payloads import MISSING, payloads_present, responses


def _hip3_meta(dex: str, names: list[str], collateral: int = 0) -> dict[str, Any]:
    universe = [{"name": f"{dex}:{n}", "szDecimals": 2, "maxLeverage": 10} for n in names]
    return {"universe": universe, "marginTables": [], "collateralToken": collateral}


class Exchange:
    """An /info endpoint: answers by request type, counts the bodies it was sent."""

    def __init__(self) -> None:
        (self.perp_dexs,) = responses("rest_perpDexs.json")  # [null, test, unit, scam]
        default_meta = responses("rest_meta.json")[1]  # 201 perps, 35 delisted, token 0
        self.metas: dict[str, Any] = {
            "": default_meta,
            "test": _hip3_meta("test", ["TSLA", "SP500"]),
            "unit": _hip3_meta("unit", ["TSLA", "GOLD"], collateral=1),  # settles in PURR here
            "scam": _hip3_meta("scam", ["RUG"]),
        }
        self.all_perp_metas: list[Any] = [self.metas[d] for d in ("", "test", "unit", "scam")]
        self.spot_meta = responses("rest_spotMeta.json")[1]
        self.outcome_meta: Any = {
            "outcomes": [{"outcome": 7, "name": "Rain", "description": "",
                          "sideSpecs": [{"name": "Yes"}, {"name": "No"}]}],
            "questions": [],
        }  # fmt: skip
        self.status: dict[str, int] = {}
        self.down = False
        self.bodies: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        body = json.loads(request.content)
        self.bodies.append(body)
        kind = body["type"]
        if kind in self.status:
            return httpx.Response(self.status[kind], text="error")
        answer: Any
        if kind == "perpDexs":
            answer = self.perp_dexs
        elif kind == "allPerpMetas":
            answer = self.all_perp_metas
        elif kind == "spotMeta":
            answer = self.spot_meta
        elif kind == "outcomeMeta":
            answer = self.outcome_meta
        elif kind == "meta" and body.get("dex", "") in self.metas:
            answer = self.metas[body.get("dex", "")]
        else:
            return httpx.Response(500, text="unknown dex")
        return httpx.Response(200, content=json.dumps(answer).encode())

    def types(self) -> list[str]:
        return sorted(b["type"] + (f":{b['dex']}" if "dex" in b else "") for b in self.bodies)


async def _no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture
def exchange() -> Exchange:
    if not payloads_present():
        pytest.skip(MISSING)
    return Exchange()


@pytest.fixture
async def client(exchange: Exchange) -> Any:
    http = httpx.AsyncClient(transport=httpx.MockTransport(exchange.handler))
    info = InfoClient(
        "http://exchange.test", budget=600, http_client=http, rng=random.Random(0),
        sleep=_no_sleep,
    )  # fmt: skip
    yield info
    await http.aclose()


# --------------------------------------------------------------------------- loading


async def test_load_from_recorded_answers(exchange: Exchange, client: InfoClient) -> None:
    load = await load_catalog(client, clock=lambda: 1234.5)
    cat = load.catalog
    assert exchange.types() == ["allPerpMetas", "outcomeMeta", "perpDexs", "spotMeta"]
    assert load.weight == 80 and load.notes == () and load.seconds >= 0
    assert cat.loaded_at == 1234.5 and cat.dropped == 0 and cat.misaligned_dexes == ()
    assert [(d.name, d.collateral) for d in cat.dexes()] == [
        ("", "USDC"), ("test", "USDC"), ("unit", "PURR"), ("scam", "USDC")]  # fmt: skip
    assert cat.resolve("btc").name == "BTC"
    assert cat.resolve("matic").error == ResolveError.DELISTED
    assert cat.resolve("UNIT:gold").name == "unit:GOLD"
    assert cat.resolve("tsla").candidates == ("test:TSLA", "unit:TSLA")
    assert cat.resolve("purr/usdc").name == "PURR/USDC"
    assert cat.resolve("#71").name == "#71"
    listed = cat.markets(MarketKind.PERP, dex="")
    assert len(listed) == 201 - 35 and len(cat.markets(dex="", listed_only=False)) == 201


async def test_a_failing_outcome_meta_does_not_fail_the_load(
    exchange: Exchange, client: InfoClient
) -> None:
    exchange.status["outcomeMeta"] = 500
    load = await load_catalog(client)
    assert load.catalog.resolve("eth").name == "ETH"
    assert load.catalog.markets(MarketKind.OUTCOME) == []
    assert len(load.notes) == 1 and load.notes[0].startswith("outcome markets not loaded")
    assert load.weight == 80  # the 500 was answered, so it was weighed
    assert exchange.types().count("outcomeMeta") == 1  # no retries for the optional part


async def test_an_unreadable_outcome_meta_does_not_fail_the_load(
    exchange: Exchange, client: InfoClient
) -> None:
    exchange.outcome_meta = ["not", "an", "object"]
    load = await load_catalog(client)
    assert load.catalog.resolve("eth").name == "ETH" and load.notes


async def test_without_outcomes(exchange: Exchange, client: InfoClient) -> None:
    load = await load_catalog(client, outcomes=False)
    assert exchange.types() == ["allPerpMetas", "perpDexs", "spotMeta"] and load.weight == 60


async def test_a_failing_required_answer_fails_the_load(
    exchange: Exchange, client: InfoClient
) -> None:
    exchange.status["allPerpMetas"] = 502
    with pytest.raises(ServerError):
        await load_catalog(client)
    exchange.down = True
    with pytest.raises(InfoUnavailable):
        await load_catalog(client)


async def test_one_bad_universe_entry_costs_only_that_entry(
    exchange: Exchange, client: InfoClient
) -> None:
    metas = copy.deepcopy(exchange.all_perp_metas)
    metas[0]["universe"][3] = {"name": "BROKEN", "maxLeverage": 5}  # no szDecimals
    del metas[1]["universe"][0]["maxLeverage"]
    exchange.all_perp_metas = metas
    cat = (await load_catalog(client)).catalog
    assert cat.dropped == 1 and cat.market("BROKEN") is None
    assert cat.resolve("sol").name == "SOL" and cat.resolve("test:tsla").name == "test:TSLA"
    assert any("unreadable" in w for w in cat.warnings)


async def test_misaligned_metas_are_fetched_per_dex(exchange: Exchange, client: InfoClient) -> None:
    """allPerpMetas without HIP-3 entries, or out of step: each such dex gets its own meta."""
    exchange.all_perp_metas = [exchange.metas[""], exchange.metas["unit"]]  # test's slot: unit
    load = await load_catalog(client)
    assert "meta:scam" in exchange.types() and "meta:test" in exchange.types()
    assert "meta:unit" in exchange.types()  # unit's slot is missing entirely
    cat = load.catalog
    assert cat.misaligned_dexes == ()
    assert cat.resolve("test:sp500").name == "test:SP500" and cat.resolve("scam:rug").ok
    assert cat.dex("unit").collateral == "PURR"  # type: ignore[union-attr]
    assert load.weight == 80 + 3 * 20


async def test_per_dex_meta_refetch_is_bounded(exchange: Exchange, client: InfoClient) -> None:
    exchange.all_perp_metas = [exchange.metas[""]]
    exchange.metas.pop("scam")  # its own meta fails too (HTTP 500)
    load = await load_catalog(client, max_meta_refetch=2)
    assert sorted(t for t in exchange.types() if t.startswith("meta")) == ["meta:test", "meta:unit"]
    assert load.catalog.resolve("unit:gold").ok and load.catalog.market("scam:RUG") is None
    assert load.catalog.misaligned_dexes == ("scam",)
    assert any("scam" in n and "at most 2" in n for n in load.notes)


# --------------------------------------------------------------------------- cache


async def test_cache_round_trip(client: InfoClient, tmp_path: Path) -> None:
    cat = (await load_catalog(client, clock=lambda: 1000.0)).catalog
    target = tmp_path / "cache" / "hlmon"  # created on first write
    path = write_catalog_cache(target, cat)
    assert path == target / CACHE_FILE_NAME and os.listdir(target) == [CACHE_FILE_NAME]
    cached = read_catalog_cache(target)
    assert cached.problem is None and cached.catalog is not None
    assert cached.catalog.loaded_at == 1000.0 and cached.catalog.age(1060.0) == 60.0
    assert cached.catalog.dexes() == cat.dexes()
    assert cached.catalog.resolve("XYZ:tsla") == cat.resolve("XYZ:tsla")
    assert cached.catalog.resolve("unit:gold").name == "unit:GOLD"
    # Overwriting replaces the file whole and leaves no temporary behind.
    write_catalog_cache(target, MarketCatalog([], [], loaded_at=2000.0))
    assert os.listdir(target) == [CACHE_FILE_NAME]
    assert read_catalog_cache(target).catalog.loaded_at == 2000.0  # type: ignore[union-attr]


def test_missing_cache_is_no_problem(tmp_path: Path) -> None:
    assert read_catalog_cache(tmp_path / "nowhere") == read_catalog_cache(tmp_path)
    assert read_catalog_cache(tmp_path).catalog is None
    assert read_catalog_cache(tmp_path).problem is None


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b'{"version": 1}', b"\xff\xfe", json.dumps({"version": 99}).encode()],
)
def test_corrupt_cache_is_ignored_with_a_reason(tmp_path: Path, content: bytes) -> None:
    (tmp_path / CACHE_FILE_NAME).write_bytes(content)
    cached = read_catalog_cache(tmp_path)
    assert cached.catalog is None
    assert cached.problem is not None and "ignored corrupt cached catalog" in cached.problem
    assert str(tmp_path / CACHE_FILE_NAME) in cached.problem


def test_unreadable_cache_path_is_ignored_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / CACHE_FILE_NAME).mkdir()  # a directory where the file should be
    cached = read_catalog_cache(tmp_path)
    assert cached.catalog is None and cached.problem is not None


# --------------------------------------------------------------------------- load or cache


async def test_load_or_cached_writes_then_falls_back(
    exchange: Exchange, client: InfoClient, tmp_path: Path
) -> None:
    fresh = await load_or_cached(client, tmp_path)
    assert fresh.catalog is not None and not fresh.from_cache and fresh.weight == 80
    assert (tmp_path / CACHE_FILE_NAME).is_file()

    exchange.down = True
    stale = await load_or_cached(client, tmp_path)
    assert stale.from_cache and stale.weight == 0 and stale.catalog is not None
    assert stale.catalog.loaded_at == fresh.catalog.loaded_at
    assert stale.catalog.resolve("btc").name == "BTC"
    assert stale.problems and stale.problems[0].startswith("market catalog not loaded")


@pytest.mark.parametrize("cache", ["none", "absent", "corrupt"])
async def test_load_or_cached_without_a_usable_cache(
    exchange: Exchange, client: InfoClient, tmp_path: Path, cache: str
) -> None:
    exchange.down = True
    directory: Path | None = None if cache == "none" else tmp_path
    if cache == "corrupt":
        (tmp_path / CACHE_FILE_NAME).write_text("{")
    result = await load_or_cached(client, directory)
    assert result.catalog is None and not result.from_cache
    assert len(result.problems) == (2 if cache == "corrupt" else 1)


async def test_a_cache_that_cannot_be_written_is_a_problem_not_a_failure(
    client: InfoClient, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where the cache directory should be
    result = await load_or_cached(client, blocker / "sub")
    assert result.catalog is not None and not result.from_cache
    assert any(p.startswith("market catalog not cached") for p in result.problems)


async def test_a_loaded_catalog_is_in_force_before_it_is_cached(
    client: InfoClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache write (a thread, then an fsync) does not hold the coins back at start-up: the
    catalog is in force, and the keeper's callback told, while it is being written."""
    store = Store(lambda: 1000.0)
    told: list[MarketCatalog] = []
    in_force_during_write: list[bool] = []

    def watched_write(directory: Path, catalog: MarketCatalog) -> Path:
        in_force_during_write.append(store.catalog_state.catalog is catalog and told == [catalog])
        return write_catalog_cache(directory, catalog)

    monkeypatch.setattr(catalog_keeper, "write_catalog_cache", watched_write)
    keeper = CatalogKeeper(client, store, tmp_path, on_catalog=lambda c, _cached: told.append(c))
    assert await keeper.load_once()
    assert in_force_during_write == [True]
    cached = read_catalog_cache(tmp_path)
    assert cached.catalog is not None and len(cached.catalog) == len(told[0])


async def test_a_crashing_first_load_still_counts_as_attempted(
    client: InfoClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load that raises something unexpected (the supervisor restarts the task) must not
    leave the start's ``--coins`` check waiting for ``attempted`` for ever."""

    async def broken(*_args: Any, **_kw: Any) -> Any:
        raise KeyError("universe")

    monkeypatch.setattr(catalog_keeper, "load_catalog", broken)
    keeper = CatalogKeeper(client, Store(lambda: 1000.0), tmp_path, on_catalog=lambda c, _: None)
    with pytest.raises(KeyError):
        await keeper.run()
    assert keeper.attempted.is_set()
    assert keeper.catalog is None
