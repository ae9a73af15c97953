"""Operations of the whole system: the service registry, the launcher and the `telemed` CLI."""
