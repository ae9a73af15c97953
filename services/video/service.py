"""Service of the video service."""
