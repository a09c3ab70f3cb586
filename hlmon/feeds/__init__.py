"""hlmon.feeds."""
