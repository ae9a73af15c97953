"""The public door of telemed: identity, directory, tokens, and the proxy to every service."""
