"""The one error config raises."""

from __future__ import annotations


class ConfigError(Exception):
    """A setting is missing, unknown or invalid. The message names the source and the key."""
