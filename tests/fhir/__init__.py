"""Tests of the FHIR R4 views."""
