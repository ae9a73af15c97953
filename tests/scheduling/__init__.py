"""Tests of the scheduling service."""
