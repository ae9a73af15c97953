"""The administrator's screens: organisations, users, API clients, webhooks, audit chains."""
