"""The hotline operator's screens: a new appeal on a live call, the appeals queue and an
appeal's page, and the callbacks due now."""
