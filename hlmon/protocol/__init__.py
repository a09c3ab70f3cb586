"""The Hyperliquid wire protocol: subscriptions, typed messages, decode, /info requests.

Pure: no I/O and no Textual.
"""
