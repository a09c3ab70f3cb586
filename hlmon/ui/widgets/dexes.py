"""Text for per-dex and per-token account amounts: the positions pane's dex line, the header's
equity, the Accounts tab's token cells.

Each perp dex keeps its own margin pool in its own collateral token, so an amount is always
shown with its token, and amounts of different tokens are never added: they are listed side
by side. An unknown token (no market catalog yet) is shown as ``?``.
"""

from __future__ import annotations

from collections.abc import Sequence

from hlmon.state import FeedState
from hlmon.state.dexes import DexSummary, TokenTotal
from hlmon.ui.fmt import fmt_age, fmt_money

UNKNOWN_TOKEN = "?"
DEX_SEP = " · "


def token_name(token: str | None) -> str:
    """The token's name, ``?`` when unknown."""
    return token if token is not None else UNKNOWN_TOKEN


def amount(value: str | None, token: str | None, *, sign: bool = False) -> str:
    """``18,204.77 USDC``; ``2,110.40 ?`` when the token is unknown."""
    return f"{fmt_money(value, sign=sign)} {token_name(token)}"


def shown_dexes(summaries: Sequence[DexSummary]) -> list[DexSummary]:
    """The dexes worth a line: the default dex and those with margin or a position."""
    return [s for s in summaries if s.active or not s.dex]


def is_multi_dex(summaries: Sequence[DexSummary]) -> bool:
    """The account holds something on a HIP-3 dex (so per-dex figures are worth showing)."""
    return any(s.dex and s.active for s in summaries)


def dex_line(
    summaries: Sequence[DexSummary], states: dict[str, tuple[FeedState, float | None]]
) -> str:
    """``dexes: main 18,204.77 USDC · xyz 2,110.40 USDC · flx 6,500.00 USDH``: each dex's
    equity (at the rows' marks, as the header's) in its token; a dex whose state stopped
    arriving says ``STALE age``.

    ``states``: dex -> (freshness, age) of that dex's state feed.
    """
    parts: list[str] = []
    for s in shown_dexes(summaries):
        text = f"{s.label} {amount(s.equity or s.account_value, s.collateral)}"
        state, age = states.get(s.dex, (FeedState.LIVE, None))
        if state is FeedState.STALE:
            text += f" STALE {fmt_age(age)}"
        parts.append(text)
    return "dexes: " + DEX_SEP.join(parts)


def token_amounts(totals: Sequence[TokenTotal], field: str, *, sign: bool = False) -> str:
    """One amount per token (``20,315.17 USDC · 6,500.00 USDH``), never added together.

    ``field``: the ``TokenTotal`` attribute (``account_value``, ``total_upnl``...).
    """
    return DEX_SEP.join(amount(getattr(t, field), t.token, sign=sign) for t in totals)
