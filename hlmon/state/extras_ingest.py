"""The whole-account half of ``Store.apply`` (#14) and its reads.

Handlers for ``spotState`` (every watched address: it holds the collateral of unified and
portfolio-margin accounts), ``twapStates``, ``userTwapSliceFills`` and ``userTwapHistory``;
what the ``user`` channel, fills and the ledger say about TWAPs and own liquidations; and the
facts the feeds read once per address (mode, role, equity history: ``set_*``).

Reads: ``spot_valuation()``, ``account_mode()``, ``equity()`` (equity and risk by the rules of
the account's mode, ``state.equity``), ``twaps()``, ``own_liquidations()``, ``fee_totals()``,
``user_role()``, ``equity_history()``, ``order_flag()``.

Every account frame or REST answer that the tolerant decoder had to repair is counted in
``health`` and logged once per kind (``_tolerant`` wraps the account handlers).

A base class of ``AccountIngest`` (and so of ``Store``), sharing the store's stamps, change
keys and user filter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

import msgspec

from hlmon.protocol.account_types import Fill, PortfolioPeriod, TwapHistoryItem, UserRole
from hlmon.protocol.messages import (
    ClearinghouseState,
    LedgerUpdate,
    Liquidation,
    Message,
    OrderUpdate,
    SpotClearinghouseState,
    SpotStateMsg,
    TwapSliceFill,
    TwapStatesMsg,
    UserEventsMsg,
    UserFillsMsg,
    UserTwapHistoryMsg,
    UserTwapSliceFillsMsg,
    WebData3Msg,
)
from hlmon.protocol.repair import Tolerance, tolerance_of

from .account import AccountState
from .accounts import AccountBook
from .catalog import USDC_TOKEN, Dex, MarketCatalog, Token
from .decimals import SAFE, dec_str, try_dec
from .equity import AccountEquity, account_equity
from .fees import FeeTotals, total_fees
from .health import FeedHealth
from .liquidations import OwnLiquidation
from .market import MarketState
from .order_status import OrderClass, classify_status, status_text
from .spot import SpotValuation, UsdPricer, value_spot
from .twap import TwapProgress, twap_progress
from .types import Clock, Handler, PositionView, Source, Stamp
from .whole_account import (
    AccountExtras,
    AddressFacts,
    EquityHistory,
    ModeReading,
    pick_history,
)

NO_CATALOG = MarketCatalog(
    (),
    (Dex("", 0, collateral_token=USDC_TOKEN, collateral="USDC"),),
    loaded_at=0.0,
    tokens=(Token(USDC_TOKEN, "USDC"),),
)
"""Used until the feeds load the real catalog: the default dex settles in USDC (documented),
names come from the balances themselves and only USDC has a price, so every other value is
unknown, never guessed."""

EXTRAS_KEYS = ("spot", "twaps", "mode", "liquidations")
"""Change keys of the selected account's extras (also set on a switch of account)."""


TWAP_HISTORY_FEED = "twapHistory"
"""Stamp of the TWAP history (websocket ``userTwapHistory`` or REST ``twapHistory``)."""
TWAP_SLICES_FEED = "twapSlices"
"""Stamp of the TWAP slice fills (websocket ``userTwapSliceFills`` or REST
``userTwapSliceFillsByTime``): without it a rebuilt TWAP's progress is not known yet."""


def twap_feed(dex: str) -> str:
    """Feed key of a dex's ``twapStates``: ``twaps`` (default dex), ``twaps:xyz``."""
    return f"twaps:{dex}" if dex else "twaps"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _fills_of(msg: Message) -> Iterator[Fill]:
    """Every fill a message carries (plain fills and TWAP slices)."""
    if isinstance(msg, UserFillsMsg):
        yield from msg.data.fills
    elif isinstance(msg, UserEventsMsg):
        yield from msg.data.fills or ()
        yield from (s.fill for s in msg.data.twapSliceFills or ())
    elif isinstance(msg, UserTwapSliceFillsMsg):
        yield from (s.fill for s in msg.data.twapSliceFills)


def tolerance_text(kind: str, seen: Tolerance, no_fee: int) -> str:
    """One log line: ``userFills: 3 fills without fee: shown with fee 0 (unknown token)``."""
    parts = []
    if no_fee:
        parts.append(f"{_plural(no_fee, 'fill')} without fee: shown with fee 0 (unknown token)")
    others = seen.defaulted - no_fee
    if others > 0:
        parts.append(f"{others} kept with defaults for missing fields")
    if seen.dropped:
        parts.append(f"{seen.dropped} unreadable left out")
    return f"{kind}: {'; '.join(parts) or 'read as sent'}"


def slice_fills(slices: Iterable[TwapSliceFill]) -> list[Fill]:
    """TWAP slice fills as fills carrying their ``twapId`` (the fill's own field is null on
    some recordings; the wrapper's id is the one that counts)."""
    return [
        s.fill if s.fill.twapId == s.twapId else msgspec.structs.replace(s.fill, twapId=s.twapId)
        for s in slices
    ]


def at_marks(
    figures: AccountEquity,
    rows: Iterable[PositionView],
    pricer: UsdPricer,
    catalog: MarketCatalog,
) -> AccountEquity:
    """``figures`` with each position's uPnL at the mark its row shows instead of the
    exchange's at its last push (both standard and unified equity hold the uPnL once), each
    in USD through its dex's collateral token. Unchanged when nothing moved or a price is
    unknown (then the figures stay the exchange's, already marked incomplete if need be)."""
    delta = Decimal(0)
    for row in rows:
        live, pushed = try_dec(row.live_upnl), try_dec(row.unrealized_pnl)
        if live is None or pushed is None or live == pushed:
            continue
        dex = catalog.dex(row.dex)
        token = dex.collateral_token if dex is not None else None
        price = pricer.token(token) if token is not None else None
        if price is None:
            return figures
        delta = SAFE.add(delta, SAFE.multiply(SAFE.subtract(live, pushed), price.usd))
    if delta == 0 or not delta.is_finite():
        return figures
    known = try_dec(figures.known_usd)
    total = try_dec(figures.equity_usd)
    return dataclasses.replace(
        figures,
        known_usd=(dec_str(SAFE.add(known, delta)) or figures.known_usd)
        if known is not None
        else figures.known_usd,
        equity_usd=dec_str(SAFE.add(total, delta)) if total is not None else None,
    )


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


class ExtrasIngest:
    """Spot, TWAP, mode, role, history and liquidation handling (see the module docstring)."""

    # Set by Store.__init__ (and ``_init_extras``).
    health: FeedHealth
    ignored_user_msgs: int
    _user: str | None
    _account: AccountState
    _accounts: AccountBook
    _market: MarketState
    _stamps: dict[str, Stamp]
    _changes: set[str]
    _clock: Clock
    _extras: AccountExtras
    _facts: AddressFacts
    _equity_cache: tuple[tuple[object, ...], tuple[object, ...], AccountEquity] | None

    if TYPE_CHECKING:  # AccountIngest and the Store provide them

        def _is_me(self, user: str) -> bool: ...

        def _add_fills(self, fills: Iterable[Fill], source: Source, now: float) -> int: ...

        def _position_views(self) -> list[PositionView]: ...

        @property
        def catalog(self) -> MarketCatalog | None: ...

    def _init_extras(self) -> None:
        self._extras = AccountExtras()
        self._facts = AddressFacts()
        self._equity_cache = None

    def _extras_handlers(self) -> dict[type, Handler]:
        return {
            SpotStateMsg: self._on_spot_state,
            TwapStatesMsg: self._on_twap_states,
            UserTwapSliceFillsMsg: self._on_twap_slice_fills,
            UserTwapHistoryMsg: self._on_twap_history,
        }

    def _tolerant(self, handler: Handler) -> Handler:
        """``handler``, first counting and logging (once per kind) what the tolerant decoder
        did to the message; account frames are rare enough for the extra call."""

        def handle(msg: Message, source: Source, now: float) -> None:
            seen = tolerance_of(msg)
            if seen:
                self._note_tolerance(msg, seen)
            handler(msg, source, now)

        return handle

    def _note_tolerance(self, msg: Message, seen: Tolerance) -> None:
        kind = str(type(msg).__struct_config__.tag)
        no_fee = sum(1 for f in _fills_of(msg) if not f.fee_known)
        if self.health.note_tolerated(kind, seen.dropped, seen.defaulted):
            self.health.log(tolerance_text(kind, seen, no_fee), "warn")

    # ------------------------------------------------------------------ hooks (AccountIngest)

    def _reset_extras(self, user: str | None) -> None:
        """Another account is selected: its extras show from what is held for it."""
        self._extras.clear(user)
        for key in [
            k
            for k in self._stamps
            if k in ("spot", TWAP_HISTORY_FEED, TWAP_SLICES_FEED) or k.partition(":")[0] == "twaps"
        ]:
            del self._stamps[key]
        held = self._facts.spots.get(user) if user is not None else None
        if held is not None:
            self._stamps["spot"] = held[1]
        self._changes.update(EXTRAS_KEYS)

    def _check_liquidations(self, found: list[OwnLiquidation]) -> None:
        for event in self._extras.note_liquidations(found):
            self.health.log(event.describe(), "error")
            self._changes.add("liquidations")

    def _note_fills_seen(self, fills: Iterable[Fill]) -> None:
        """Every fill of the selected account passes here: own liquidations among them."""
        detector = self._extras.detector
        if detector is not None:
            self._check_liquidations(detector.fills(fills))

    def _note_user_event(self, msg: UserEventsMsg, source: Source, now: float) -> None:
        """The ``user`` channel's members besides fills, funding and system cancels."""
        ev = msg.data
        if ev.twapSliceFills is not None:
            self._add_fills(slice_fills(ev.twapSliceFills), source, now)
        if ev.twapHistory is not None:
            self._add_twap_history(ev.twapHistory)
        if ev.liquidation is not None:
            self._note_liquidation_event(ev.liquidation)

    def _note_liquidation_event(self, event: Liquidation) -> None:
        detector = self._extras.detector
        if detector is None:
            return
        own = detector.user_event(event)
        if own or event.liquidated_user.lower() == detector.watched:
            self._check_liquidations(own)  # (a repeat of a known one is not logged again)
        else:
            self.health.log(
                f"liquidation {event.lid} of {event.liquidated_user} taken over by this "
                f"account (notional {event.liquidated_ntl_pos})"
            )

    def _note_ledger(self, updates: Iterable[LedgerUpdate]) -> None:
        detector = self._extras.detector
        if detector is not None:
            self._check_liquidations(detector.ledger(updates))

    def _note_order_updates(self, updates: Iterable[OrderUpdate]) -> None:
        """Log each status hlmon does not know, once: the order stays listed (flagged) until
        the next ``openOrders`` snapshot says whether it is open."""
        for upd in updates:
            status = upd.status
            if classify_status(status) is not OrderClass.UNKNOWN:
                continue
            if status not in self._extras.unknown_statuses:
                self._extras.unknown_statuses.add(status)
                self.health.log(
                    f"order {upd.order.oid} ({upd.order.coin}): unknown status "
                    f"{status_text(status) or repr(status)}; kept until the next orders "
                    "snapshot",
                    "warn",
                )

    def _note_web_data(self, msg: WebData3Msg) -> None:
        """``webData3`` restates the mode on every push (modes can change at any time)."""
        raw = msg.abstraction
        user = msg.user or self._user
        if raw is not None and user is not None:
            self.set_account_mode(user, raw, "webData3")

    # ------------------------------------------------------------------ handlers

    def _on_spot_state(self, msg: SpotStateMsg, source: Source, now: float) -> None:
        data = msg.data
        address = data.user.lower()
        mine = address == self._user
        if not mine and not self._accounts.accepts(address):
            self.ignored_user_msgs += 1
            return
        stamp = Stamp(now, None, source)
        state = data.spotState
        held = self._facts.spots.get(address)
        # The exchange re-pushes the balances every few seconds, mostly the same (49 of 51
        # under the stress profile): then only the stamp moves, and the held object stays,
        # so what was valued from it (the equity, the Spot tab) is not worked out again.
        changed = held is None or held[0] != state
        if held is not None and not changed:
            state = held[0]
        self._facts.spots[address] = (state, stamp)
        if mine:
            self._stamps["spot"] = stamp
        if changed:
            self._changes.update(("accounts", "spot") if mine else ("accounts",))

    def _on_twap_states(self, msg: TwapStatesMsg, source: Source, now: float) -> None:
        data = msg.data
        if not self._is_me(data.user):
            return
        self._extras.twaps[data.dex] = list(data.states)
        self._stamps[twap_feed(data.dex)] = Stamp(now, None, source)
        self._changes.add("twaps")

    def _on_twap_slice_fills(self, msg: UserTwapSliceFillsMsg, source: Source, now: float) -> None:
        if self._is_me(msg.data.user):
            first = TWAP_SLICES_FEED not in self._stamps
            self._stamps[TWAP_SLICES_FEED] = Stamp(now, None, source)
            self._add_fills(slice_fills(msg.data.twapSliceFills), source, now)
            if first:
                self._changes.add("twaps")  # rebuilt rows: their progress is known now

    def _on_twap_history(self, msg: UserTwapHistoryMsg, source: Source, now: float) -> None:
        if self._is_me(msg.data.user):
            self._stamps[TWAP_HISTORY_FEED] = Stamp(now, None, source)
            self._add_twap_history(msg.data.history)
            self._changes.add("twaps")  # loaded, even when nothing in it is new

    def _add_twap_history(self, items: Iterable[TwapHistoryItem]) -> None:
        if self._extras.add_history(items):
            self._changes.add("twaps")

    # ------------------------------------------------------------------ writes (the feeds)

    def set_account_mode(self, address: str, raw: str, source: str = "userAbstraction") -> None:
        """``address``'s mode as the exchange spelt it (``userAbstraction`` answer or
        ``webData3`` field); an unknown spelling is logged and shown raw."""
        if not self._facts.set_mode(address, raw, source):
            return
        reading = self._facts.modes[address.lower()]
        if reading.mode is None:
            self.health.log(f"{address}: unknown account mode {raw!r} (shown as is)", "warn")
        self._changes.update(("mode", "accounts"))

    def set_user_role(self, address: str, role: UserRole) -> None:
        """``address``'s ``userRole`` answer (read once when the address is added)."""
        self._facts.roles[address.lower()] = role
        self._changes.update(("role", "accounts"))

    def set_portfolio(self, address: str, periods: list[tuple[str, PortfolioPeriod]]) -> None:
        """``address``'s ``portfolio`` answer: its equity history."""
        history = pick_history(periods, self._clock())
        if history is None:
            self._facts.histories.pop(address.lower(), None)
        else:
            self._facts.histories[address.lower()] = history
        self._changes.add("equityHistory")

    # ------------------------------------------------------------------ reads

    def _catalog_now(self) -> MarketCatalog:
        """The market catalog in force (the feeds set it), else ``NO_CATALOG``."""
        catalog = self.catalog
        return catalog if catalog is not None else NO_CATALOG

    def spot_state(self, address: str | None = None) -> SpotClearinghouseState | None:
        """The spot state of ``address`` (default: the selected account); None before the
        first push or answer."""
        who = address.lower() if address is not None else self._user
        held = self._facts.spots.get(who) if who is not None else None
        return held[0] if held is not None else None

    def spot_valuation(self) -> SpotValuation | None:
        """The selected account's balances named and valued in USD at the current mids."""
        state = self.spot_state()
        if state is None:
            return None
        return value_spot(state, self._catalog_now(), self._market.mids)

    def account_mode(self, address: str | None = None) -> ModeReading | None:
        """The mode of ``address`` (default: the selected one); None until read."""
        who = address.lower() if address is not None else self._user
        return self._facts.modes.get(who) if who is not None else None

    def user_role(self, address: str | None = None) -> UserRole | None:
        """The ``userRole`` answer for ``address`` (default: the selected one)."""
        who = address.lower() if address is not None else self._user
        return self._facts.roles.get(who) if who is not None else None

    def equity_history(self, address: str | None = None) -> EquityHistory | None:
        """The equity samples of ``address`` (default: the selected one) from ``portfolio``."""
        who = address.lower() if address is not None else self._user
        return self._facts.histories.get(who) if who is not None else None

    def equity(self) -> AccountEquity:
        """The selected account's equity and risk by the rules of its mode (``state.equity``),
        from its per-dex states, its spot state and the current mids, with the positions'
        uPnL at the marks the rows show (``positions()``), as the header's uPnL: the equity
        moves with the same marks. Cached until one of them changes."""
        reading = self.account_mode()
        mode = reading.mode if reading is not None else None
        states = self._account.clearinghouse
        catalog = self._catalog_now()
        names = tuple(sorted(states))
        plain: tuple[object, ...] = (self._user, mode, names, self._account.dexes_listed)
        # Compared by identity: every push makes new objects, so equal-looking inputs from
        # two pushes at one clock reading are still told apart (the key keeps them alive).
        rows = self._position_views()
        held: tuple[object, ...] = (
            catalog,
            self._market.mids,
            self._stamps.get("mids"),
            self.spot_state(),
            rows,
            *(states[d] for d in names),
        )
        cached = self._equity_cache
        if cached is not None and cached[0] == plain and _same(cached[1], held):
            return cached[2]
        figures = account_equity(
            mode,
            catalog,
            dex_states=states,
            spot=self.spot_state(),
            mids=self._market.mids,
            # Until an allDexsClearinghouseState push lists the account's dexes, every dex of
            # the catalog is expected (a REST sweep brings them too): a total of the default
            # dex alone would be a wrong number, not a partial one.
            expected_dexes=names if self._account.dexes_listed else None,
        )
        figures = at_marks(figures, rows, UsdPricer(catalog, self._market.mids), catalog)
        self._equity_cache = (plain, held, figures)
        return figures

    def account_figures(self, address: str) -> AccountEquity:
        """Equity and risk of any watched account by the rules of its mode, from its held
        perp states and its spot state (the selected one's is ``equity()``): what the
        Accounts tab shows."""
        who = address.lower()
        if who == self._user:
            return self.equity()
        reading = self._facts.modes.get(who)
        states = self._held_states(who)
        return account_equity(
            reading.mode if reading is not None else None,
            self._catalog_now(),
            dex_states=states,
            spot=self.spot_state(who),
            mids=self._market.mids,
            expected_dexes=["", *sorted(d for d in states if d)],
        )

    def _held_states(self, address: str) -> dict[str, ClearinghouseState]:
        """The perp states held for a watched account that is not the selected one."""
        return {dex: state for dex, (state, _) in self._accounts.states_of(address).items()}

    def twaps_loaded(self) -> bool:
        """The TWAP tab has its first data: ``twapStates`` or the TWAP history."""
        return self.twaps_streamed() or TWAP_HISTORY_FEED in self._stamps

    def twaps_streamed(self) -> bool:
        """The websocket's ``twapStates`` has spoken for the selected account (any dex)."""
        return any(k.partition(":")[0] == "twaps" for k in self._stamps)

    def twaps(self) -> list[TwapProgress]:
        """Active TWAPs of the selected account (every dex), oldest first."""
        now_ms = int(self._clock() * 1000)
        out = [
            twap_progress(tid, state, now_ms, dex)
            for dex, states in self._extras.twaps.items()
            for tid, state in states
        ]
        return sorted(out, key=lambda t: (t.started_ms, t.twap_id))

    def twap_history(self) -> list[TwapHistoryItem]:
        """TWAP state changes seen, oldest first."""
        return list(self._extras.twap_history)

    def own_liquidations(self) -> list[OwnLiquidation]:
        """Liquidations of the selected account detected from every signal, oldest first."""
        return list(self._extras.liquidations)

    def fee_totals(self) -> FeeTotals:
        """The fees of the fills held, summed per fee token (never across tokens)."""
        return total_fees(self._account.fills.newest_first())

    def order_flag(self, oid: int) -> str | None:
        """``triggered`` or an unknown status that keeps this open order listed, else None."""
        return self._account.order_flags.get(oid)
