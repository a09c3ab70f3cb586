"""The subscriptions of a watched account, and watching one in another's place (#14).

A base class of ``FeedEngine`` (split from ``engine.py`` to keep it small): every watched
account holds ``allDexsClearinghouseState``, the default dex's ``clearinghouseState`` and
``spotState`` (one user slot; the spot state is the collateral of a unified or
portfolio-margin account); the selected one also its detail feeds. ``watch_instead`` replaces
an agent wallet by its master account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hlmon.feeds.account_checks import AccountChecks
from hlmon.feeds.settings import EngineSettings
from hlmon.protocol import subscriptions as subs
from hlmon.protocol.subscriptions import Subscription
from hlmon.state import Store


class AccountSubscriptions:
    """Which subscriptions a watched account holds (see the module docstring)."""

    # Set by FeedEngine.__init__.
    settings: EngineSettings
    store: Store
    user: str | None
    users: tuple[str, ...]
    checks: AccountChecks
    _started: bool

    if TYPE_CHECKING:  # FeedEngine provides them

        def _add(self, sub: Subscription, feed_key: str | None) -> None: ...

        def _remove(self, sub: Subscription, feed_key: str | None) -> None: ...

        def select_user(self, address: str) -> None: ...

    def _add_account_subs(self, user: str, feed_key: str | None) -> None:
        """Every dex's state in one subscription, and the default dex's on its own (see the
        module doc), and the spot state: the collateral of a unified or portfolio-margin
        account (#14). All take the same user slot. ``feed_key``: the selected account's."""
        self._add(subs.all_dexs_clearinghouse_state(user), None)
        self._add(subs.clearinghouse_state(user), feed_key)
        self._add(subs.spot_state(user), "spot" if feed_key is not None else None)

    def _remove_account_subs(self, user: str) -> None:
        """What ``_add_account_subs`` added for a watched account that is no longer watched."""
        self._remove(subs.all_dexs_clearinghouse_state(user), None)
        self._remove(subs.clearinghouse_state(user), None)
        self._remove(subs.spot_state(user), None)

    @staticmethod
    def _detail_subs(user: str) -> list[tuple[Subscription, str | None]]:
        """The selected account's feeds besides clearinghouseState, with their feed keys."""
        return [
            (subs.open_orders(user), "orders"),
            (subs.order_updates(user), None),
            (subs.user_events(user), None),
            (subs.user_fills(user), "fills"),
            (subs.user_fundings(user), "fundings"),
            # The whole account (#14): TWAPs, their slice fills (never on userFills), and the
            # ledger (one of the three signals of the account's own liquidation).
            # Not an expected feed: it has no REST source, and an account without TWAPs may
            # never be pushed one (the TWAP tab then says it is waiting, nothing goes stale).
            (subs.twap_states(user), None),
            (subs.user_twap_slice_fills(user), None),
            (subs.user_non_funding_ledger_updates(user), None),
        ]

    def watch_instead(self, old: str, new: str) -> None:
        """Watch ``new`` in ``old``'s place (an agent wallet's master account, #14).

        ``new`` takes ``old``'s place in the watched list (or ``old`` just leaves it when
        ``new`` is already watched), gets its summary subscriptions and its one-off checks,
        and is selected if ``old`` was; then ``old``'s subscriptions go.

        Raises:
            ValueError: ``old`` is not watched, or ``new`` is not an address.
        """
        was, now = old.strip().lower(), new.strip().lower()
        subs.clearinghouse_state(now)  # validates the address before anything changes
        if was not in self.users:
            raise ValueError(f"not a watched address: {old!r}")
        if was == now:
            return
        users = [now if u == was else u for u in self.users]
        self.users = tuple(dict.fromkeys(users))
        self.store.set_watched_users(self.users, dict(self.settings.labels))
        if self._started:
            self._add_account_subs(now, None)
        if self.user == was:
            self.select_user(now)
        if self._started:
            self._remove_account_subs(was)
        self.checks.forget(was)
        self.store.health.log(f"watching {now} instead of {was}")
