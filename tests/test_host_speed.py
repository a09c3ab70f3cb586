"""The host-speed probe of ``make bench``: fixed work, a sane reading."""

from benchmarks import host_speed


def test_the_work_is_fixed() -> None:
    # The same checksum every call: the probe's instruction count cannot depend on the run.
    assert host_speed.work() == host_speed.work()


def test_a_reading_has_the_fastest_round_first() -> None:
    speed = host_speed.measure(rounds=3)
    assert 0 < speed["best_ms"] <= speed["median_ms"]
    assert speed["rounds"] == 3
    assert speed["spread"] >= 0
    assert "ms best" in host_speed.describe(speed)
