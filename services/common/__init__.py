"""Shared kernel of the telemed services: settings, database, auth, errors, audit, observability."""
