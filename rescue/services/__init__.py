"""The service layer: small handlers, each one transaction, each change an event."""
