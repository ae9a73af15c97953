"""`telemed demo` and `telemed seed --demo`: the demo directory and the guided story."""
