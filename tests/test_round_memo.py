"""``RoundMemo``: a value built in the last round is handed back for the same key and inputs
(the first input by identity, the rest by equality), and only the last round's are kept."""

from __future__ import annotations

from hlmon.round_memo import RoundMemo


def test_reuse_by_identity_then_equality_for_one_round() -> None:
    memo: RoundMemo[str, list[str]] = RoundMemo()
    built: list[str] = []

    def build(name: str) -> list[str]:
        built.append(name)
        return [name]

    item, other = ["an order"], ["an order"]  # equal, not the same object
    memo.begin()
    first = memo.get("a", (item, "flag"), lambda: build("a"))
    memo.get("b", (item, "flag"), lambda: build("b"))
    memo.begin()
    assert memo.get("a", (item, "flag"), lambda: build("a2")) is first  # same item, same flag
    assert memo.get("b", (other, "flag"), lambda: build("b2")) == ["b2"]  # a replaced item
    memo.begin()
    assert memo.get("a", (item, "other flag"), lambda: build("a3")) == ["a3"]  # an input moved
    assert built == ["a", "b", "b2", "a3"]  # "a2" was never built
    memo.begin()
    memo.begin()  # a round without "a": it is gone
    assert memo.get("a", (item, "other flag"), lambda: build("a4")) == ["a4"]
    assert len(memo) == 1 and memo["a"] == ["a4"]


def test_a_round_that_keeps_nothing_and_clear() -> None:
    memo: RoundMemo[str, int] = RoundMemo()
    memo.begin()
    memo.get("k", (), lambda: 1)
    memo.begin(keep=False)  # what the values were built for changed as a whole
    assert memo.get("k", (), lambda: 2) == 2
    memo.clear()
    memo.begin()
    assert memo.get("k", (), lambda: 3) == 3
