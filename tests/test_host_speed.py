"""The host-speed probe of ``make bench``: fixed work, a sane reading."""

from benchmarks import host_speed


def test_the_work_is_fixed() -> None:
    # The fingerprint of the work: readings stored in earlier results compare with new ones only
    # while the work is the same, so a change to it must be deliberate (and said in the notes).
    assert host_speed.work() == 190448529


def test_a_reading_has_the_fastest_round_first() -> None:
    speed = host_speed.measure(rounds=3)
    assert 0 < speed["best_ms"] <= speed["median_ms"]
    assert speed["rounds"] == 3
    assert speed["spread"] >= 0
    assert "ms best" in host_speed.describe(speed)
