"""The core every layer stands on: settings, the database, the outbox, secrets, outbound HTTP, file storage."""
