"""Schemas of the files service."""
