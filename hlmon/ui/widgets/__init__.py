"""Dashboard panes, each a line-API widget (see ``lines.LinePane``)."""
