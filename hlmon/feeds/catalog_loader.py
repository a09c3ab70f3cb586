"""Load the market catalog from ``/info`` and keep the last good one on disk.

A load is ``perpDexs`` + ``allPerpMetas`` + ``spotMeta`` (60 weight), sent together, plus
``outcomeMeta`` (20) when the budget has room: outcome markets are a nicety, so their failure
never fails the load. A HIP-3 dex whose ``allPerpMetas`` entry is missing or lacks its prefix
gets its own ``meta`` (20 each, a few at most).

The cache is one JSON file in a directory the caller chooses (the user cache dir), written
atomically; a file that cannot be read is ignored with a reason, never trusted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hlmon.feeds.info_client import BudgetExhausted, InfoClient, InfoError, InfoUnavailable
from hlmon.protocol import info as api
from hlmon.protocol.info import InfoRequest
from hlmon.protocol.meta import Meta, OutcomeMeta, PerpDex, SpotMeta
from hlmon.state.catalog import MarketCatalog, build_catalog

CACHE_FILE_NAME = "market-catalog.json"
MAX_CACHE_BYTES = 32 * 1024 * 1024
"""A cache file larger than this is not read (mainnet's catalog is well under 1 MB)."""

MAX_META_REFETCH = 4
"""Per-dex ``meta`` requests a load may add for misaligned dexes (20 weight each)."""


@dataclass(frozen=True, slots=True)
class CatalogLoad:
    """A catalog fresh from the exchange.

    Attributes:
        catalog: the catalog (its ``loaded_at`` is when the answers arrived).
        weight: REST weight of the requests that reached the exchange (base weights; retries
            inside ``InfoClient`` come on top).
        seconds: how long the load took.
        notes: what is missing and why (outcomes skipped, a dex meta that failed...).
    """

    catalog: MarketCatalog
    weight: int
    seconds: float
    notes: tuple[str, ...] = ()


class _Spent:
    """Adds up the base weight of requests the exchange answered or failed on."""

    def __init__(self) -> None:
        self.weight = 0

    async def fetch(self, info: InfoClient, req: InfoRequest, **kw: Any) -> Any:
        try:
            answer = await info.info(req, **kw)
        except (BudgetExhausted, InfoUnavailable):
            raise  # never reached the exchange: costs nothing
        except InfoError:
            self.weight += req.weight
            raise
        self.weight += req.weight
        return answer


async def _gather_or_cancel(*coros: Awaitable[Any]) -> list[Any]:
    """Run concurrently; on the first failure cancel the rest and raise that failure."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _optional(coro: Awaitable[Any], what: str, notes: list[str]) -> Any:
    try:
        return await coro
    except InfoError as exc:
        notes.append(f"{what} not loaded: {exc}")
        return None


async def load_catalog(
    info: InfoClient,
    *,
    outcomes: bool = True,
    max_meta_refetch: int = MAX_META_REFETCH,
    clock: Callable[[], float] = time.time,
) -> CatalogLoad:
    """Fetch the catalog answers and build a ``MarketCatalog``.

    Raises:
        InfoError: when ``perpDexs``, ``allPerpMetas`` or ``spotMeta`` cannot be fetched
            (the caller then falls back to the cached catalog).
    """
    started = time.monotonic()
    spent = _Spent()
    notes: list[str] = []
    required = _gather_or_cancel(
        spent.fetch(info, api.perp_dexs()),
        spent.fetch(info, api.all_perp_metas()),
        spent.fetch(info, api.spot_meta()),
    )
    if outcomes:
        # Only when the budget has room now, and without retries: it must not delay start-up.
        optional = _optional(
            spent.fetch(info, api.outcome_meta(), urgent=False, retries=0), "outcome markets",
            notes,
        )  # fmt: skip
        (perp_dexs, all_metas, spot), outcome = await _gather_or_cancel(required, optional)
    else:
        perp_dexs, all_metas, spot = await required
        outcome = None
    loaded_at = clock()
    args = _typed(perp_dexs, all_metas, spot, outcome)
    catalog = build_catalog(*args, loaded_at=loaded_at)
    refetch = catalog.misaligned_dexes[: max(0, max_meta_refetch)]
    if len(catalog.misaligned_dexes) > len(refetch):
        skipped = ", ".join(catalog.misaligned_dexes[len(refetch) :])
        notes.append(f"no meta fetched for dexes {skipped} (at most {max_meta_refetch} a load)")
    if refetch:
        metas = await asyncio.gather(
            *(_optional(spent.fetch(info, api.meta(d)), f"meta of dex {d!r}", notes)
              for d in refetch)
        )  # fmt: skip
        dex_metas = {d: m for d, m in zip(refetch, metas, strict=True) if isinstance(m, Meta)}
        if dex_metas:
            catalog = build_catalog(*args, loaded_at=loaded_at, dex_metas=dex_metas)
    return CatalogLoad(catalog, spent.weight, time.monotonic() - started, tuple(notes))


def _typed(
    perp_dexs: Any, all_metas: Any, spot: Any, outcome: Any
) -> tuple[Sequence[PerpDex | None], Sequence[Meta | None], SpotMeta, OutcomeMeta | None]:
    """The decoded answers, checked against the types ``decode_response`` promises."""
    if not isinstance(perp_dexs, list) or not isinstance(all_metas, list):
        raise TypeError("perpDexs and allPerpMetas must decode to lists")
    if not isinstance(spot, SpotMeta):
        raise TypeError("spotMeta must decode to SpotMeta")
    return perp_dexs, all_metas, spot, outcome if isinstance(outcome, OutcomeMeta) else None


# --------------------------------------------------------------------------- disk cache


@dataclass(frozen=True, slots=True)
class CachedCatalog:
    """What the cache held: a catalog, or None with the reason a present file was ignored."""

    catalog: MarketCatalog | None
    problem: str | None = None


def cache_path(directory: Path) -> Path:
    return Path(directory) / CACHE_FILE_NAME


def read_catalog_cache(directory: Path) -> CachedCatalog:
    """The cached catalog in ``directory``; a missing file is no problem, a bad one is."""
    path = cache_path(directory)
    try:
        size = path.stat().st_size
        if size > MAX_CACHE_BYTES:
            return CachedCatalog(None, f"ignored cached catalog {path}: {size} bytes is too big")
        data = path.read_bytes()
    except FileNotFoundError:
        return CachedCatalog(None)
    except OSError as exc:
        return CachedCatalog(None, f"could not read cached catalog {path}: {exc}")
    try:
        return CachedCatalog(MarketCatalog.from_json(data))
    except ValueError as exc:
        return CachedCatalog(None, f"ignored corrupt cached catalog {path}: {exc}")


def write_catalog_cache(directory: Path, catalog: MarketCatalog) -> Path:
    """Write ``catalog`` to ``directory`` atomically (a reader never sees half a file).

    Raises:
        OSError: when the directory or file cannot be written.
    """
    path = cache_path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{CACHE_FILE_NAME}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(catalog.to_json())
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


@dataclass(frozen=True, slots=True)
class CatalogResult:
    """The catalog to use and where it came from.

    Attributes:
        catalog: fresh, cached, or None (then nothing that takes a coin may be subscribed).
        from_cache: True when the exchange could not be reached and the cache was used; its
            age is ``catalog.age(now)``.
        weight: REST weight of a successful load; 0 otherwise (what a failed load spent is
            still counted by the ``InfoClient`` budget).
        problems: why the load or the cache failed, for the log and the status line.
    """

    catalog: MarketCatalog | None
    from_cache: bool
    weight: int
    problems: tuple[str, ...] = ()


async def load_or_cached(
    info: InfoClient, cache_dir: Path | None, *, outcomes: bool = True
) -> CatalogResult:
    """Load the catalog and cache it; if the exchange fails, use the last good cached one."""
    problems: list[str] = []
    try:
        load = await load_catalog(info, outcomes=outcomes)
    except InfoError as exc:
        problems.append(f"market catalog not loaded: {exc}")
    else:
        problems.extend(load.notes)
        if cache_dir is not None:
            try:
                write_catalog_cache(cache_dir, load.catalog)
            except OSError as exc:
                problems.append(f"market catalog not cached: {exc}")
        return CatalogResult(load.catalog, False, load.weight, tuple(problems))
    if cache_dir is None:
        return CatalogResult(None, False, 0, tuple(problems))
    cached = read_catalog_cache(cache_dir)
    if cached.problem:
        problems.append(cached.problem)
    return CatalogResult(cached.catalog, cached.catalog is not None, 0, tuple(problems))
