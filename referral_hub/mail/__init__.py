"""Mail: the outbox that every email goes through, its transports and its worker."""
