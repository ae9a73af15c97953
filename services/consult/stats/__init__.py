"""The figures: a daily roll-up of cases, appeals, callbacks and monitoring, read as JSON and
Prometheus gauges. A read model over the other domains' tables."""
