"""hlmon.feeds: all network I/O (asyncio only, never Textual).

- ``engine.FeedEngine``: ties everything below to a Store (the runtime builds and runs it).
- ``supervisor.Supervisor``: runs the engine's long-lived tasks, restarts any that crashes.
- ``ws_feed.WsFeed``: one websocket, heartbeat, full-jitter reconnects, resubscribe-all.
- ``info_client.InfoClient``: budgeted, retrying ``POST /info`` client and its typed errors.
- ``rest_poller.RestPoller``: serves every feed on screen over ``/info`` by plan (the fallback
  when the websocket is down or a feed is stale; the transport in REST mode).
- ``rest_sources``: what each planned poll serves on screen, its request and its messages.
- ``rest_plan`` / ``rest_demand`` / ``rest_schedule``: the pure planner (cadences within the
  weight budget by priority), the screen's demand, and when each poll is due.
- ``settings``: ``WebsocketSettings`` (the ``[websocket]`` table and the feed's timings) and
  ``EngineSettings`` (what the engine reads of the settings).
- ``reconcile.Reconciler``: account/orders/fills over REST after every reconnect.
- ``backoff`` / ``weight_budget``: the pure pacing rules (unit-tested without sockets).

The package root imports nothing: ``hlmon.feeds.settings`` (which ``hlmon.config`` composes)
must load without aiohttp, httpx and the engine. Import from the modules themselves.
"""
