"""hlmon.sim."""
