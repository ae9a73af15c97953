"""The knowledge base's screens: search, articles and their versions, writing them, and the
articles suggested on a live call."""
