"""hlmon.sim — a local Hyperliquid that speaks the real public protocol.

One aiohttp server on one port serves ``POST /info`` (REST base ``http://HOST:PORT``) and the
websocket ``/ws`` (``ws://HOST:PORT/ws``). It never imports Textual.

In-process API::

    from hlmon.sim import SimServer, SimLimits, ManualClock

    sim = SimServer(
        seed=7,                  # same seed + same clock => same frames
        profile="standard",      # or "stress", or a Profile, e.g.
                                 # STANDARD.with_changes(tick_ms=20, l2book_ms=200)
        clock=None,              # None: wall clock; ManualClock(): moves only on advance();
                                 # any Callable[[], int] returning ms (e.g. WallClock(rate=60))
        limits=SimLimits(),      # per IP: max_connections=10, new_connections_per_minute=30,
                                 # max_subscriptions=1000, max_users=10,
                                 # messages_per_minute=2000, rest_weight_per_minute=1200,
                                 # send_queue_max=50_000 (frames), window_s=60
        idle_timeout=60.0,       # close sockets the server has not sent to for this long (s)
        fault_routes=False,      # True: enable POST /_sim/<fault>, GET /_sim/truth, /_sim/faults
        autotick=None,           # None: run the block loop unless the clock is a ManualClock
    )
    await sim.start(host="127.0.0.1", port=0)   # returns sim.url; also sim.ws_url, sim.port
    sim.demo_address                             # "0x5e1a7ed3..." (40 hex, lower-case)
    await sim.advance(seconds, step_ms=None)     # run the blocks up to now + seconds (<= 500
                                                 #   blocks per call unless step_ms is given)
    sim.tick()                                   # one block at the clock's current time
    sim.force_fill(coin=None)                    # fill one resting demo order now -> fill dict
    sim.account.force_fill(coin=None)            # same, on the DemoAccount
    sim.account.deposit("1000")                  # a userNonFundingLedgerUpdates event
    sim.truth                                    # Truth(address, fills (oldest first, history
                                                 #   included), clearinghouse_state (REST shape),
                                                 #   open_orders (frontend shape), fundings, time)
    sim.connections                              # open websocket connections (set)
    await sim.stop()
    async with SimServer(seed=7) as sim: ...     # starts on 127.0.0.1, random port

Faults (``sim.faults``)::

    drop_all()                     abort every websocket (no close frame)
    stall(seconds=None)            sockets stay open, nothing is sent (no pongs) until unstall()
    unstall()
    send_malformed(n=1)            n malformed frames (truncated JSON, non-JSON, wrong types)
    send_error(text)               {"channel":"error","data":text} to every socket
    info_status(status=429, count=None)   next `count` /info answers (all if None) get `status`
    info_hang(seconds)             every /info request waits `seconds` (or until clear())
    latency(ms)                    delay every ws frame and /info answer
    refuse_connections(seconds)    websocket upgrades get HTTP 503 for `seconds`
    clear()                        everything back to normal

Over HTTP (``fault_routes=True`` or ``hlmon sim --faults``): ``POST /_sim/<name>`` with a JSON
object of keyword arguments, e.g. ``/_sim/stall {"seconds": 5}``,
``/_sim/info_status {"status": 429, "count": 3}``, ``/_sim/force_fill {"coin": "BTC"}``,
``/_sim/advance {"seconds": 3600}``; ``GET /_sim/truth``; ``GET /_sim/faults``.

Behaviour worth knowing (the wire rules: ``shared/protocol/hyperliquid.md`` beside the repository):

- Demo account ``sim.demo_address``: BTC long cross 20x, ETH short cross 15x, SOL long isolated
  10x, HYPE short isolated 5x; resting limit orders (one with TP/SL children), position TP/SL
  trigger orders; ~36 past fills, 24 h of past fundings, two ledger entries. A resting order
  fills when the book trades through it, and on a schedule (every 10-30 s in ``standard``); a
  fresh order is then placed near the market. Funding is paid at each hour + 37 ms. Any other
  valid address is an empty account.
- Errors (``error`` channel): ``Already subscribed: {...}``, ``Already unsubscribed: {...}``,
  ``Invalid subscription {...}`` (unknown coin/dex, bad nSigFigs/mantissa, spot activeAssetData),
  ``Error parsing JSON into valid websocket request: <request>`` (bad JSON/envelope, unknown type,
  ``webData2``, bad address, bad candle interval, unparseable ``post``).
- Limits (``SimLimits``, per client IP): too many / too frequent connections -> upgrade refused
  with HTTP 429; too many subscriptions -> ``Cannot track more than N total subscriptions.``;
  too many users -> ``Cannot track more than N total users.``; too many inbound messages ->
  ``Too many messages``; REST (and ws ``post``) weight past the budget -> HTTP 429 (a ``post``
  gets ``{"type":"error","payload":"429 Too Many Requests"}``). A socket whose send backlog
  passes ``send_queue_max`` frames is dropped.
- Idle close (code 1000) after ``idle_timeout`` s without server->client frames; suspended while
  stalled. Websocket ``action`` posts answer ``{"status":"err","response":"Unable to recover
  signer."}`` (read-only).

Standalone (the ``hlmon sim`` CLI): ``run_standalone(host, port, seed, profile, faults) -> int``
blocks, prints ``listening on http://HOST:PORT`` then ``demo address 0x...`` and serves until
SIGINT/SIGTERM; ``serve_standalone(...)`` is the async form.
"""

from hlmon.sim.clock import ManualClock, WallClock
from hlmon.sim.limits import SimLimits
from hlmon.sim.profiles import STANDARD, STRESS, Profile
from hlmon.sim.server import SimServer, Truth
from hlmon.sim.standalone import run_standalone, serve_standalone

__all__ = [
    "STANDARD",
    "STRESS",
    "ManualClock",
    "Profile",
    "SimLimits",
    "SimServer",
    "Truth",
    "WallClock",
    "run_standalone",
    "serve_standalone",
]
