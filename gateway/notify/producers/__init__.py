"""What becomes a message: the services' events as the relay brings them (visits, cases)."""
