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
                                 # max_subscriptions=1000, max_users=14 (the 15th new user is
                                 # refused), max_users_text=None (the N of the refusal text;
                                 # None: max_users + 1, i.e. "15"), messages_per_minute=2000,
                                 # rest_weight_per_minute=1200, send_queue_max=50_000 (frames),
                                 # window_s=60
        idle_timeout=60.0,       # close sockets the server has not sent to for this long (s)
        fault_routes=False,      # True: enable POST /_sim/<fault>, GET /_sim/truth, /_sim/faults
        autotick=None,           # None: run the block loop unless the clock is a ManualClock
        legacy_invalid_subscription=False,  # True: an unlisted name gets the older
                                 # "Invalid subscription {...}" error frame, socket kept open
        demo_account="standard", # or "unified" / "portfolio" (ACCOUNT_MODES): where the
                                 # demo account's collateral shows (see below)
        markets="standard",      # or "large": ~1,600 listed markets (hlmon.sim.market_sizes;
                                 # generated perps and spot pairs after the standard ones)
    )
    await sim.start(host="127.0.0.1", port=0)   # returns sim.url; also sim.ws_url, sim.port
    sim.demo_address                             # "0x5e1a7ed3..." (40 hex, lower-case)
    await sim.advance(seconds, step_ms=None)     # run the blocks up to now + seconds (<= 500
                                                 #   blocks per call unless step_ms is given)
    sim.tick()                                   # one block at the clock's current time
    sim.force_fill(coin=None, oid=None)          # fill one resting demo order now -> fill dict
                                                 #   (coin=None: a default-dex perp order; name a
                                                 #   HIP-3 coin such as "xyz:TSLA" or a spot pair
                                                 #   "@6" to fill there; oid: that order)
    sim.force_trigger(oid=None)                  # move the mark across a Stop Limit order's
                                                 #   trigger and trigger it -> its orderUpdate
    sim.cancel_order(oid)                        # "canceled" -> its orderUpdate (None: no such)
    sim.liquidate(coin=None)                     # liquidate a position -> the userEvents
                                                 #   liquidation object (None: the default dex's
                                                 #   first isolated position)
    sim.start_twap(coin, side, sz, minutes=30)   # a TWAP now -> its "activated" history item
    sim.account.force_fill(coin=None)            # same, on the DemoAccount
    sim.account.deposit("1000")                  # a userNonFundingLedgerUpdates event
    sim.truth                                    # Truth(address, fills (oldest first, history
                                                 #   included, every dex), clearinghouse_state
                                                 #   and open_orders (default dex; REST and
                                                 #   frontend shapes), fundings, time,
                                                 #   dex_states / dex_open_orders (by dex name,
                                                 #   "" = default, empty dexes included),
                                                 #   account_mode, spot_state,
                                                 #   twap_slice_fills, twap_states)
    sim.universe.dex_names                       # ("", "xyz", "flx", "hyna"): perpDexs order
    sim.hub.subscribers("fastAssetCtxs")         # connections subscribed to a feed type
    sim.connections                              # open websocket connections (set)
    await sim.stop()
    async with SimServer(seed=7) as sim: ...     # starts on 127.0.0.1, random port

Faults (``sim.faults``)::

    drop_all()                     abort every websocket (no close frame)
    stall(seconds=None)            sockets stay open, nothing is sent (no pongs) until unstall()
    unstall()                      requests held meanwhile are answered (late pongs), pushes resume
    send_malformed(n=1)            n malformed frames (truncated JSON, non-JSON, wrong types)
    send_error(text)               {"channel":"error","data":text} to every socket
    info_status(status=429, count=None)   next `count` /info answers (all if None) get `status`
    info_hang(seconds)             every /info request waits `seconds` (or until clear())
    latency(ms)                    delay every ws frame and /info answer
    refuse_connections(seconds)    websocket upgrades get HTTP 503 for `seconds`
    legacy_invalid_subscription(enabled=True)
                                   an unlisted name gets ``Invalid subscription {...}`` and the
                                   socket stays open (False: drop the socket, the 2026 default)
    clear()                        everything back to normal (the constructor's name mode)

Over HTTP (``fault_routes=True`` or ``hlmon sim --faults``): ``POST /_sim/<name>`` with a JSON
object of keyword arguments, e.g. ``/_sim/stall {"seconds": 5}``,
``/_sim/info_status {"status": 429, "count": 3}``, ``/_sim/force_fill {"coin": "BTC"}``,
``/_sim/advance {"seconds": 3600}``; scenarios ``/_sim/trigger {"oid": N}`` (or ``{}``),
``/_sim/cancel_order {"oid": N}``, ``/_sim/liquidate {"coin": "HYPE"}``,
``/_sim/twap {"coin": "SOL", "side": "B", "sz": "0.5", "minutes": 1}``,
``/_sim/deposit {"usdc": "1000"}``; ``GET /_sim/truth``; ``GET /_sim/faults``. The names and
parameters are one table, ``hlmon.sim.fault_catalog.CONTROLS`` (``hlmon sim --help`` prints
it); an unknown name or a bad parameter answers 400 with ``{"error", "controls"}``.

Fixed addresses (``hlmon.sim.roles``, importable from ``hlmon.sim``): ``DEMO_ADDRESS``
(``userRole`` ``user``), ``DEMO_AGENT_ADDRESS`` (``agent`` of the demo account),
``DEMO_SUB_ACCOUNT_ADDRESS`` (``subAccount`` whose master is the demo account),
``DEMO_VAULT_ADDRESS`` (``vault``), ``LIQUIDATOR_ADDRESS`` (named by liquidations); any other
address is ``missing``. Only the demo account has data.

Behaviour worth knowing (the wire rules: ``shared/protocol/hyperliquid.md`` beside the repository):

- Markets (``hlmon.sim.dexes``, ``hlmon.sim.universe``): the default dex (~160 perps, ``MATIC``
  delisted: acked, empty ``l2Book`` levels on every push, silent ``bbo``/``trades``), spot
  (``PURR/USDC``, ``@1``..``@160``; ``@160`` = USDH/USDC), outcome sides ``#90``/``#91``, and
  the HIP-3 dexes in ``perpDexs`` order: ``xyz`` (collateral USDC, token 0: ``xyz:XYZ100``,
  ``xyz:TSLA``, ``xyz:NVDA``, ``xyz:TSLL`` strict-isolated, ``xyz:AAPL``, ``xyz:GOLD``,
  ``xyz:SILVER``), ``flx`` (USDH: ``flx:CRCL``, ``flx:TSLA``, ``flx:GOLD``) and ``hyna`` (USDE:
  ``hyna:BTC``, ``hyna:ETH``, ``hyna:HYPE``). REST ``perpDexs``, ``allPerpMetas``, ``outcomeMeta``;
  ``dex`` on ``meta``, ``metaAndAssetCtxs``, ``allMids``, ``clearinghouseState``,
  ``frontendOpenOrders``, ``openOrders`` (an unlisted dex: HTTP 500). WS ``allMids`` with ``dex``
  (``data.dex`` present for a HIP-3 dex, absent for the default dex, whose map alone holds spot
  and outcomes), ``clearinghouseState``/``openOrders`` with ``dex`` (frames carry ``dex``),
  ``allDexsClearinghouseState`` (``[dex, state]`` tuples for every dex, about every 5 s).
- Market-wide streams (``hlmon.sim.market_feeds``): ``fastAssetCtxs`` (base64 raw-DEFLATE
  ``{coin: {markPx, midPx}}``: the full snapshot to each new subscriber, then the changed coins
  and fields every ``Profile.fast_ctxs_ms``, 1 s; 0.5 s in ``stress``) and ``allDexsAssetCtxs``
  (``{"ctxs": [[dex, [ctx...]]...]}`` in ``perpDexs`` and universe order, no coin names; one at
  once, then every ``Profile.all_dexs_ctxs_ms``, 13.6 s; 2 s in ``stress``).
- Names are exact: a subscription naming a coin the simulator does not list, a mis-cased one
  (``btc``), an upper-case dex prefix (``XYZ:TSLA``), a HIP-3 name without prefix (``TSLA``), an
  unlisted ``dex``, or bad ``l2Book`` options (``nSigFigs`` outside 2-5, ``mantissa`` without
  ``nSigFigs: 5``) makes the server abort the whole socket 0.1 s later: no close frame, no
  error frame (the client sees 1006), as the exchange does since 2026. With
  ``legacy_invalid_subscription`` it answers ``Invalid subscription {...}`` and keeps the
  socket. A ``post`` of ``l2Book`` for an unknown coin answers ``data: null``.
- Demo account ``sim.demo_address``: default dex BTC long cross 20x, ETH short cross 15x, SOL
  long isolated 10x, HYPE short isolated 5x; ``xyz`` (its own USDC pool): ``xyz:NVDA`` short
  isolated 5x with a position stop, ``xyz:TSLA`` long cross 10x; ``flx`` (USDH pool):
  ``flx:CRCL`` long cross 3x; ``hyna`` empty. Resting limit orders on every dex but ``hyna``
  (one with TP/SL children), position TP/SL trigger orders; ~40 past fills (fees in the dex's
  collateral token), 24 h of past fundings, ledger entries (deposit, spot transfer, sends to
  ``xyz`` and ``flx``). A resting order fills when the book trades through it, and on a
  schedule (every 10-30 s in ``standard``, any dex and spot); a fresh order is then placed
  near the market. Fills of every dex come on ``userFills``; ``clearinghouseState`` without
  ``dex`` is the default dex only. Funding is paid at each hour + 37 ms. Any other valid
  address is an empty account.
- Spot (``spotClearinghouseState`` weight 2, WS ``spotState`` with the full state on every
  push, ``ignorePortfolioMargin`` echoed as sent, one user slot): USDC, PURR, UBTC, HYPE,
  USDH, FELIX (whose only pair ``@161`` is quoted in USDH) and the outcome row ``+90`` (no
  ``token``); a resting HYPE sell (``@6``) and FELIX buy hold part of HYPE and USDH. A spot
  fill pays its fee in the token received (``feeToken`` is set on every fill).
- Account modes (``demo_account``; ``userAbstraction`` weight 20 answers ``default`` /
  ``unifiedAccount`` / ``portfolioMargin``, ``webData3.userState.abstraction`` ``disabled`` /
  ``unifiedAccount`` / ``portfolioMargin``): the money is the same in each, only where it
  shows differs. Unified and portfolio keep the collateral in spot: each collateral token's
  row adds the perp dexes' realised money (``total``) and their margin (``hold``), and every
  ``clearinghouseState`` reads ``accountValue`` = margin used + cross PnL, ``withdrawable`` 0
  (positions, margins, maintenance margin, liquidation prices unchanged). Portfolio adds
  ``portfolioMarginEnabled``, ``portfolioMarginRatio`` and per eligible row ``ltv``,
  ``supplied``, ``borrowed``, ``spotHold`` (``hlmon.sim.spot``).
- Orders: an AVAX Stop Limit buy waits above the mark. When the mark crosses it,
  ``orderUpdates`` says ``triggered`` and it stays listed under the same oid as a resting limit
  order (``isTrigger: false``, ``triggerCondition: "Triggered"``, ``tif: "Gtc"``; a choice, see
  ``hlmon.sim.account_actions``) until it fills or is canceled; then one is armed the other way.
- TWAP (``hlmon.sim.twap``): ETH buy 1.8 over 30 min and ``xyz:TSLA`` sell 1.5 over 20 min run
  from the start, a slice every 30 s; when one finishes the next starts a minute later the
  other way. ``twapStates`` (per ``dex``), ``userTwapSliceFills`` and the ``user`` channel's
  ``twapSliceFills`` carry slice fills (zero hash, ``twapId``; never on ``userFills``),
  ``userTwapHistory`` and ``twapHistory`` the history (``time`` in seconds), REST
  ``userTwapSliceFills`` the last 2000 slices newest first, ``userTwapSliceFillsByTime``
  (``startTime``, optional ``endTime``; in the exchange's docs and the TypeScript SDK) those of
  a window, oldest first, 2000 at most, as ``userFillsByTime``.
- Liquidation (``liquidate``): the account's fill ``Liquidated Isolated Short`` / ``... Cross
  Long`` (no ``liquidation`` object), ``userEvents`` ``{"liquidation": {...}}``, a ledger
  ``liquidation`` delta; the position leaves the state, its TP/SL end ``liquidatedCanceled``.
- ``userRole`` (weight 60) per the fixed addresses above; ``portfolio`` (weight 20): eight
  periods of sparse samples ending at the account's equity now (``hlmon.sim.portfolio``).
- Errors (``error`` channel): ``Already subscribed: {...}``, ``Already unsubscribed: {...}``,
  ``Error parsing JSON into valid websocket request: <request>`` (bad JSON/envelope, unknown type,
  ``webData2``, bad address, bad candle interval, unparseable ``post``).
- Limits (``SimLimits``, per client IP): too many / too frequent connections -> upgrade refused
  with HTTP 429; then ``error`` frames with the exchange's texts, no echo, socket kept open:
  ``Cannot subscribe to more than 1000 channels.``, ``Cannot track more than 15 total users.``
  (the 15th new user), ``Cannot send more than 2000 messages per minute.`` (N from the limits);
  REST (and ws ``post``) weight past the budget -> HTTP 429 (a ``post`` gets
  ``{"type":"error","payload":"429 Too Many Requests"}``; an unlisted dex in a ``post``
  ``{"type":"error","payload":"500 Internal Server Error"}``). A socket whose send backlog
  passes ``send_queue_max`` frames is dropped.
- Idle close (code 1000) after ``idle_timeout`` s without server->client frames; suspended while
  stalled. Websocket ``action`` posts answer ``{"status":"err","response":"Unable to recover
  signer."}`` (read-only).

Standalone (the ``hlmon sim`` CLI): ``run_standalone(host, port, seed, profile, faults,
demo_account) -> int`` blocks, prints ``listening on http://HOST:PORT`` then ``demo address
0x...`` (and ``demo account MODE`` unless standard) and serves until SIGINT/SIGTERM;
``serve_standalone(...)`` is the async form.
"""

from hlmon.sim.clock import ManualClock, WallClock
from hlmon.sim.limits import SimLimits
from hlmon.sim.profiles import STANDARD, STRESS, Profile
from hlmon.sim.roles import (
    ACCOUNT_MODES,
    DEMO_ADDRESS,
    DEMO_AGENT_ADDRESS,
    DEMO_SUB_ACCOUNT_ADDRESS,
    DEMO_VAULT_ADDRESS,
    LIQUIDATOR_ADDRESS,
)
from hlmon.sim.server import SimServer
from hlmon.sim.standalone import run_standalone, serve_standalone
from hlmon.sim.truth import Truth

__all__ = [
    "ACCOUNT_MODES",
    "DEMO_ADDRESS",
    "DEMO_AGENT_ADDRESS",
    "DEMO_SUB_ACCOUNT_ADDRESS",
    "DEMO_VAULT_ADDRESS",
    "LIQUIDATOR_ADDRESS",
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
