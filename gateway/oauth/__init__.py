"""Standard sign-in: OAuth 2.0 authorization code with PKCE, OpenID Connect, and federation."""
