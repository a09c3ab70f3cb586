"""Screens: the dashboard, the help modal and small prompts."""
