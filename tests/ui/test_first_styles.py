"""The dashboard's first resume keeps the styles its widgets got at mount (``Dashboard.
_on_screen_resume``): what a full restyle would give them, so nothing on screen differs."""

from __future__ import annotations

from typing import Any

import pytest
from textual.dom import DOMNode
from textual.screen import Screen

from hlmon.state import Store
from hlmon.ui.app import build_app
from tests.catalogs import default_catalog
from tests.fakes import FakeRuntime
from tests.support import FakeClock
from tests.ui.helpers import settings


def _styles(screen: Screen[Any]) -> list[tuple[object, ...]]:
    """Every node's rules from the stylesheet (its own and its component classes')."""

    def of(node: DOMNode) -> tuple[object, ...]:
        parts = sorted(node._component_styles.items())
        components = tuple((name, tuple(styles.base.css_lines)) for name, styles in parts)
        return (repr(node), tuple(node._css_styles.css_lines), components, node.rich_style)

    return [of(node) for node in screen.walk_children(with_self=True)]


@pytest.mark.parametrize("theme", ["textual-dark", "nord", "textual-light"])
async def test_first_resume_skips_a_restyle_that_changes_nothing(
    theme: str, store: Store, clock: FakeClock
) -> None:
    """With the default theme and with others (set on mount, before the push)."""
    app = build_app(FakeRuntime(settings(theme=theme), store, clock, catalog=default_catalog()))
    restyled: list[DOMNode] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        assert screen is app.dashboard
        assert app.theme == theme
        assert app.dashboard._resumed
        before = _styles(screen)
        update = app.stylesheet.update_nodes

        def counting(nodes: Any, animate: bool = False) -> None:
            nodes = list(nodes)
            restyled.extend(nodes)
            update(nodes, animate=animate)

        app.stylesheet.update_nodes = counting  # type: ignore[method-assign]
        screen.update_node_styles(animate=False)
        await pilot.pause()
        assert len(restyled) == len(before)  # the restyle ran, over every node
        assert _styles(screen) == before
