"""Schemas of the scheduling service."""
