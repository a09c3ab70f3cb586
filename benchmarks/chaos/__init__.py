"""Chaos run: hlmon's FeedEngine + Store against the in-process simulator while faults rain.

``make chaos`` (``python -m benchmarks.chaos``) runs the full plan; ``tests/reliability``
runs a small plan through the same code (``ChaosRun(small_plan(seed)).run()``).

What happens:

* The simulator (wall clock, fast cadences, fault routes) and one ``FeedEngine`` watching the
  demo account run in one event loop, with a loop exception handler counting crashes.
* A fault plan, shuffled with a fixed seed, is played one fault at a time: connection drops,
  drops with refused reconnects, stalls (half-open sockets), malformed frames, ``error``
  frames, /info 429/500/hangs (with a drop so reconciliation has to go through them), latency
  spikes, a burst of 10,000 frames in one second, and the store's clock stepping forward and
  back (an NTP step). After each fault the script waits for live data again (a condition with
  a deadline) and records how long it took.
* All along, a side task forces demo fills every few hundred ms, also while the socket is
  down, on top of the simulator's own scheduled fills.
* At the end the simulator clock is frozen, faults cleared, one last drop forces a final
  reconnect + reconciliation, and hlmon's fills, positions, open orders and equity are compared
  with ``sim.truth``: every fill made must be held exactly once.

The burst: the simulator has no burst fault (its engineer is still at work on it), so the
script pushes 10,000 valid frames (replays of the current ``bbo``/``l2Book``) through the
server's own fan-out (``SimServer._broadcast``) in ten slices over one second; they travel the
real socket, ``decode`` and ``Store.apply`` like any other frame.

Time is compressed (hours of bad network in a few minutes), so the per-minute limits on new
connections and REST weight are lifted on both sides (``LIMIT_SCALE``); the limiter and budget
themselves are covered by tests/feeds.

Results: a table on stdout and ``benchmarks/results/chaos.json``. Exit status 1 if any fill is
missing or doubled, positions/equity/orders differ from the truth, anything crashed, or a
fault was never recovered from.

The pieces, so a test imports only what it uses: ``plan`` (the faults), ``clocks`` (the
store's steppable clock, the simulator's freezable one), ``crashes`` (telling our exceptions
from network failures), ``report`` (what was measured, the table), ``run`` (``ChaosRun``),
``tui`` (the real TUI in tmux) and ``__main__`` (the command line).
"""
