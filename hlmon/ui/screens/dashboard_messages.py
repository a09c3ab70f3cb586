"""The messages the dashboard posts to the app (``on_dashboard_*`` handlers there).

They are the dashboard's (``Dashboard.CoinAdded`` and so on): split from ``dashboard`` to keep
it small. ``namespace="dashboard"`` gives each the handler name a class nested in
``Dashboard`` would have.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message

from hlmon.alerts import Alert


class BookModeChanged(Message, namespace="dashboard"):
    """The user asked for another book mode."""

    def __init__(self, fast: bool, n_sig_figs: int | None) -> None:
        super().__init__()
        self.fast = fast
        """Fast mode (5 levels, 0.5 s)."""
        self.n_sig_figs = n_sig_figs
        """Aggregation, None for none."""


class CoinAdded(Message, namespace="dashboard"):
    """A coin was added to the watchlist."""

    def __init__(self, coin: str, coins: Sequence[str]) -> None:
        super().__init__()
        self.coin = coin
        """The new coin."""
        self.coins = tuple(coins)
        """The whole watchlist after the change."""


class AlertsFired(Message, namespace="dashboard"):
    """Alert rules fired this frame (the app delivers them)."""

    def __init__(self, alerts: Sequence[Alert]) -> None:
        super().__init__()
        self.alerts = tuple(alerts)
        """The alerts, in rule order."""


class AlertAdded(Message, namespace="dashboard"):
    """The user added an alert rule (already in the engine)."""

    def __init__(self, rule_id: str) -> None:
        super().__init__()
        self.rule_id = rule_id


class AccountSelected(Message, namespace="dashboard"):
    """The user chose another watched account to show in detail."""

    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address
        """The newly selected address (lower-case)."""


class WatchInstead(Message, namespace="dashboard"):
    """The user asked to watch an agent wallet's master account in its place."""

    def __init__(self, old: str, new: str) -> None:
        super().__init__()
        self.old = old
        """The agent wallet's address."""
        self.new = new
        """Its master account."""


class CopyRequested(Message, namespace="dashboard"):
    """The user asked to copy ``text`` (the app sends it and says how it went)."""

    def __init__(self, text: str, what: str) -> None:
        super().__init__()
        self.text = text
        self.what = what
        """What the text is (``address``, ``order id``)."""


class CoinRemoved(Message, namespace="dashboard"):
    """A coin was removed from the watchlist."""

    def __init__(self, coin: str, coins: Sequence[str]) -> None:
        super().__init__()
        self.coin = coin
        """The removed coin."""
        self.coins = tuple(coins)
        """The whole watchlist after the change."""
