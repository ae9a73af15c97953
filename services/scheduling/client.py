"""Client of the scheduling service."""
