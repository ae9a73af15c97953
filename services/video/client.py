"""Client of the video service."""
