"""Liaison stations' pages: deputies, reception calendars, duty rosters, reception-day entry and counts."""
