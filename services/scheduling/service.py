"""Service of the scheduling service."""
