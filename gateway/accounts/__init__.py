"""People's accounts: passwords and their rules, one-time password links (reset, invitation),
sign-ins and signing out."""
