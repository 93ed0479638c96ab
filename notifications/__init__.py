"""Notices to people: templates, the outbox, and the channels that deliver (email, webhooks)."""
