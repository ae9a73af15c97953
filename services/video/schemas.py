"""Schemas of the video service."""
