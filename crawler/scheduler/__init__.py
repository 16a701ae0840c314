"""The scheduler daemon (`newsmon run`) and its status report (`newsmon status`).

Kept import-light: ``crawler.config`` imports ``crawler.scheduler.settings`` while loading config.
"""
