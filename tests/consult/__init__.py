"""Tests of the consult service."""
