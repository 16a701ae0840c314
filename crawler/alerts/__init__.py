"""Alerts: rendering, notifier plugins and the outbox dispatcher."""
