"""hlmon.state."""
