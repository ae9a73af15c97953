"""Messages that reach people by email and SMS: a transactional outbox, delivery with retries,
and a delivery log."""
