"""hlmon.daemon: one set of exchange connections per host (``hlmon daemon``).

The exchange's limits are per IP (10 sockets, 10-15 users, 1000 subscriptions, 2000 client
messages and 1200 REST weight a minute), so every terminal, browser tab and script on a host
shares them. The daemon owns the upstream websocket(s) and the REST budget and speaks the
exchange's own protocol (``/ws``, ``POST /info``) on a private Unix socket (and optionally a
loopback port with a token), so any hlmon, or any Hyperliquid client, can point at it.

- ``paths``: where the socket lives (the user's runtime dir), private directories, probing.
- ``limits``: the per-IP limits it enforces for all its clients together, with the
  exchange's own refusal texts.
- ``streams``: one upstream subscription shared by many clients (last snapshot, merged
  backfills).
- ``sessions``: one client (its subscriptions, per-client sequence and resume buffer).
- ``upstream``: the upstream sockets ("lanes"), built on ``feeds.ws_feed.WsFeed``.
- ``rest``: ``/info`` answered from a shared cache inside one host-wide weight budget.
- ``server``: the aiohttp server tying them together; ``standalone``: the command.

Nothing is imported here: ``hlmon.daemon.paths`` stays light for the runtime's discovery.
"""
