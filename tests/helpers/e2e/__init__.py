"""Helpers of the browser tests (tests/e2e): settings, page checks and the journeys' flows."""
