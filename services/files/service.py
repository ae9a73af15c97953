"""Service of the files service."""
