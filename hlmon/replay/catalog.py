"""The market catalog a replay of a format-1 recording answers with: every coin it names.

A client of 2026 loads ``perpDexs`` / ``allPerpMetas`` / ``spotMeta`` / ``outcomeMeta`` before
it subscribes any coin, and subscribes only names they list. A format-2 recording keeps the
exchange's answers (``hlmon.feeds.recorder``); a format-1 one holds frames only, so the replay
server makes them up from what it can serve: the header's coins and every coin its frames
name (``allMids`` keys, books, trades, bbo, contexts, candles, and the account's positions,
open orders and fills, so a HIP-3 dex the account trades on is listed and followed). Perps are
grouped by their dex prefix (``xyz:TSLA`` on dex ``xyz``), ``@N`` and ``BASE/QUOTE`` names
become spot pairs, ``#N`` outcome sides. What is not recorded is not made up where it shows:
every market says 2 size decimals (they only shape how sizes are printed), and a HIP-3 dex's
collateral token is one no answer names, so it shows as unknown (the default dex's is USDC).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from hlmon.replay.recording import ROUTE_KEY, Frame, Recording

_SZ_DECIMALS = 2
_UNNAMED = 1_000_000
"""A token index no answer lists: an ``@N`` pair whose base is not recorded, a HIP-3 dex's
collateral."""
_COIN_CHANNELS = ("l2Book", "bbo", "activeAssetCtx", "activeSpotAssetCtx", "candle", "trades")
_ACCOUNT_CHANNELS = ("clearinghouseState", "allDexsClearinghouseState", "openOrders", "userFills")
"""Account streams whose coins are listed too: the first and last frame of each stream."""


def recorded_coins(recording: Recording) -> set[str]:
    """The header's coins and every coin the recorded market frames name."""
    names = {c for c in recording.header.get("coins") or () if isinstance(c, str)}
    first: dict[str, Frame] = {}
    mids: list[Frame] = []
    account: dict[str, list[Frame]] = {}
    for frame in recording.frames:
        if frame.route != ROUTE_KEY or frame.key is None:
            continue
        if frame.channel == "allMids":
            mids.append(frame)
        elif frame.channel in _COIN_CHANNELS:
            first.setdefault(frame.key, frame)
        elif frame.channel in _ACCOUNT_CHANNELS:
            ends = account.setdefault(frame.key, [frame, frame])
            ends[1] = frame
    # allMids: its first and last frame (markets listed while recording appear in the last);
    # the account's streams likewise (a position opened while recording is in the last).
    ends = [f for pair in account.values() for f in pair]
    for frame in [*first.values(), *mids[:1], *mids[-1:], *ends]:
        names.update(_coins_of(frame))
    return {n for n in names if n and n == n.strip()}


def _coins_of(frame: Frame) -> Iterable[str]:
    try:
        data = msgspec.json.decode(frame.text).get("data")
    except (msgspec.DecodeError, AttributeError):
        return ()
    if frame.channel == "allMids" and isinstance(data, dict):
        mids = data.get("mids")
        return [k for k in mids if isinstance(k, str)] if isinstance(mids, dict) else ()
    if frame.channel == "trades" and isinstance(data, list):
        return _named(data)
    if frame.channel in _ACCOUNT_CHANNELS:
        return _account_coins(frame.channel, data)
    if isinstance(data, dict):
        coin = data.get("s") if frame.channel == "candle" else data.get("coin")
        return [coin] if isinstance(coin, str) else ()
    return ()


def _named(items: Any) -> list[str]:
    """The ``coin`` of each item of a list that has one."""
    if not isinstance(items, list):
        return []
    return [i["coin"] for i in items if isinstance(i, dict) and isinstance(i.get("coin"), str)]


def _account_coins(channel: str, data: Any) -> list[str]:
    """Coins an account frame names: positions, open orders, fills."""
    if not isinstance(data, dict):
        return []
    if channel == "openOrders":
        return _named(data.get("orders"))
    if channel == "userFills":
        return _named(data.get("fills"))
    if channel == "clearinghouseState":
        states = [data.get("clearinghouseState")]
    else:  # allDexsClearinghouseState: [[dex, state], ...]
        pairs = data.get("clearinghouseStates")
        states = [p[1] for p in pairs if isinstance(p, list) and len(p) == 2] if pairs else []
    coins: list[str] = []
    for state in states:
        if isinstance(state, dict) and isinstance(state.get("assetPositions"), list):
            coins += _named(
                [p.get("position") for p in state["assetPositions"] if isinstance(p, dict)]
            )
    return coins


def catalog_answers(coins: Iterable[str]) -> dict[str, Any]:
    """``/info`` answers listing exactly ``coins``: ``perpDexs``, ``allPerpMetas``,
    ``spotMeta``, ``outcomeMeta`` and, by dex name, each dex's ``meta``."""
    perps: dict[str, list[str]] = {"": []}
    spot: list[str] = []
    outcomes: dict[int, set[int]] = {}
    for name in sorted(set(coins)):
        if name.startswith("@") or "/" in name:
            spot.append(name)
        elif name.startswith("#") and name[1:].isdigit():
            code = int(name[1:])
            outcomes.setdefault(code // 10, set()).add(code % 10)
        else:
            dex, colon, _ = name.partition(":")
            perps.setdefault(dex if colon else "", []).append(name)
    metas = {
        dex: {
            "universe": [{"name": n, "szDecimals": _SZ_DECIMALS, "maxLeverage": 1} for n in names],
            "marginTables": [],
            "collateralToken": 0 if dex == "" else _UNNAMED,  # a HIP-3 dex's: not recorded
        }
        for dex, names in perps.items()
    }
    dexes = [d for d in perps if d]
    return {
        "perpDexs": [None, *({"name": d, "fullName": d} for d in dexes)],
        "allPerpMetas": [metas[""], *(metas[d] for d in dexes)],
        "meta": metas,
        "spotMeta": _spot_meta(spot),
        "outcomeMeta": {"outcomes": [_outcome(o, sides) for o, sides in sorted(outcomes.items())],
                        "questions": []},
    }  # fmt: skip


def _outcome(outcome: int, sides: set[int]) -> dict[str, Any]:
    return {
        "outcome": outcome,
        "name": f"#{outcome}",
        "sideSpecs": [{"name": str(side)} for side in range(max(sides) + 1)],
    }


def _spot_meta(names: list[str]) -> dict[str, Any]:
    """Spot pairs named as recorded: ``@N`` keeps its index, ``BASE/QUOTE`` its tokens."""
    tokens: dict[str, int] = {"USDC": 0}

    def token(name: str) -> int:
        return tokens.setdefault(name, len(tokens))

    pairs: list[dict[str, Any]] = []
    used = {int(n[1:]) for n in names if n.startswith("@") and n[1:].isdigit()}
    spare = max(used, default=0) + 1
    for name in names:
        if name.startswith("@") and name[1:].isdigit():
            index = int(name[1:])
            pair = [_UNNAMED, 0]  # its tokens are not recorded: it shows as @N
        else:
            base, _, quote = name.partition("/")
            index, spare = spare, spare + 1
            pair = [token(base), token(quote or "USDC")]
        pairs.append({"name": name, "tokens": pair, "index": index, "isCanonical": False})
    return {
        "universe": pairs,
        "tokens": [
            {"name": n, "szDecimals": _SZ_DECIMALS, "weiDecimals": 8, "index": i}
            for n, i in tokens.items()
        ],
    }
