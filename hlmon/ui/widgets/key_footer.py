"""The footer: the keys that fit the terminal's width, the most useful first.

Textual's ``Footer`` shows every binding marked ``show`` and lets the rest run off the right
edge. ``KeyFooter`` takes the screen's active bindings (so a key a focused table has taken over
drops out, and a disabled one is dimmed), ranks them by the screen's rows of
``hlmon.ui.keymap`` (``rank``; a binding the table does not know, a focused widget's, ranks
``UNKNOWN_RANK`` when it asks to be shown, and shows first) and keeps, in rank order, every
entry that still fits; it shows them in table order. While any is left out
the ``?`` entry reads "all keys": ``?`` lists them. An entry with a ``layout`` shows only while
the screen has that class (``b`` in the compact layout).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from hlmon.ui.keymap import HELP_LABEL_MORE, Key, ScreenName, by_binding, rows

UNKNOWN_RANK = 2
"""Rank of a shown binding the key table does not list (a focused widget's own keys): they
matter there as much as moving the selection."""
KEY_PADDING = 3
"""Cells around an entry's key and label: `` key label `` (Textual's FooterKey padding)."""


@dataclass(frozen=True)
class Entry:
    """One footer entry candidate."""

    key: str
    """Textual key name (what a click simulates)."""
    display: str
    label: str
    action: str
    rank: int
    order: int
    """Position in the key table (unknown bindings before it, in binding order)."""
    enabled: bool = True
    tooltip: str = ""

    @property
    def width(self) -> int:
        return cell_len(self.display) + cell_len(self.label) + KEY_PADDING


def fit(entries: list[Entry], width: int) -> tuple[list[Entry], bool]:
    """The entries that fit ``width`` cells, taken by rank (then table order; ``?`` before
    all), shown in table order; and whether any was left out. The ``?`` entry is relabelled
    "all keys" then."""

    def take(candidates: list[Entry]) -> list[Entry]:
        used, kept = 0, []
        # ``?`` first: while anything is left out it is the way to find it.
        for entry in sorted(candidates, key=lambda e: (e.action != "help", e.rank, e.order)):
            if used + entry.width <= width:
                kept.append(entry)
                used += entry.width
        return sorted(kept, key=lambda e: e.order)

    kept = take(entries)
    if len(kept) == len(entries):
        return kept, False
    more = [
        Entry(e.key, e.display, HELP_LABEL_MORE, e.action, e.rank, e.order, e.enabled, e.tooltip)
        if e.action == "help"
        else e
        for e in entries
    ]
    return take(more), True


class KeyFooter(Footer):
    """Textual's footer, fitted to the width by rank (see the module docstring)."""

    def __init__(self, screen: ScreenName = "dashboard", *, id: str | None = None) -> None:
        """``screen``: whose rows of the key table rank and order the entries (its own and
        the app's); other bindings show with their own description."""
        super().__init__(id=id, show_command_palette=False)
        self._table = by_binding(screen)
        self._order = {key: i for i, key in enumerate(rows(screen))}
        app_keys = {k for k, row in by_binding(None).items() if row.screen == "app"}
        self._not_here = app_keys - self._table.keys()
        """App keys that do nothing on this screen (``!`` on the market screen): never shown."""
        self.hidden = False
        """Whether the last fit left entries out."""
        self.shown: list[Entry] = []
        """The entries of the last fit (for tests)."""
        self._fitted: tuple[int, list[Entry]] | None = None
        """The width and the candidates the shown keys were fitted to (None: none yet)."""

    def entries(self) -> list[Entry]:
        """The candidates: the screen's active bindings, one entry per key row."""
        seen: set[Key | str] = set()
        out: list[Entry] = []
        screen = self.screen
        bindings = screen.active_bindings
        for n, (_node, binding, enabled, tooltip) in enumerate(bindings.values()):
            row = self._table.get((binding.key, binding.action))
            if row is not None:
                if row.rank is None or row in seen:
                    continue
                if row.layout is not None and not screen.has_class(row.layout):
                    continue
                seen.add(row)
                display = row.display or self.app.get_key_display(binding)
                out.append(Entry(binding.key, display, row.label, row.action, row.rank,
                                 self._order[row], enabled, tooltip))  # fmt: skip
            elif (binding.key, binding.action) in self._not_here:
                continue
            elif binding.show and binding.action not in seen:
                seen.add(binding.action)
                # A focused widget's keys (the filter box's) come first, in binding order.
                out.append(self._unknown(binding, enabled, tooltip, n - len(bindings)))
        return out

    def _unknown(self, binding: Binding, enabled: bool, tooltip: str, order: int) -> Entry:
        display = self.app.get_key_display(binding)
        return Entry(binding.key, display, binding.description, binding.action, UNKNOWN_RANK,
                     order, enabled, tooltip)  # fmt: skip

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        entries = self.entries()
        self._fitted = (self.size.width, entries)
        self.shown, self.hidden = fit(entries, self.size.width)
        for entry in self.shown:
            key = FooterKey(
                entry.key,
                entry.display,
                entry.label,
                entry.action,
                disabled=not entry.enabled,
                tooltip=entry.tooltip,
            )
            # The widths above are the full style's. Set quietly, as Footer sets its own: the
            # reactive's watcher would restyle each key before it is even mounted (~5 ms of
            # the first frame's CPU on the 2-core Xeon).
            key.set_reactive(FooterKey.compact, False)
            key.set_class(False, "-compact", update=False)
            yield key

    async def recompose(self) -> None:
        """Rebuild the entries only when the fit changed: every bindings update (a focus
        change, a screen's first layout) asks for one, and a rebuild remounts every key
        (20-40 ms of CPU at start-up on the 2-core Xeon, twice, around the first data)."""
        if (
            self.is_attached
            and self._bindings_ready
            and self._fitted is not None
            and self._fitted == (self.size.width, self.entries())
        ):
            return
        await super().recompose()

    def refit(self) -> None:
        """Fit again after the screen changed layout (``layout`` entries come and go)."""
        if self.is_attached and self._bindings_ready:
            self.call_after_refresh(self.recompose)

    def on_resize(self, event: events.Resize) -> None:
        self.refit()  # (``recompose`` skips the rebuild when the width kept the same fit)
