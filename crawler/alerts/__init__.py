"""Alerts: rendering, notifier plugins and the outbox dispatcher.

Importing the package registers every notifier kind (the plugin modules below).
"""

from crawler.alerts import mail, robots, webhook

__all__ = ["mail", "robots", "webhook"]
