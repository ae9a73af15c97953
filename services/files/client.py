"""Client of the files service."""
