"""hlmon.ui."""
