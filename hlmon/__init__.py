"""hlmon: a read-only real-time terminal monitor for the Hyperliquid exchange."""

__version__ = "0.1.0"
