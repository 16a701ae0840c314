"""Scrapy spiders: thin adapters over crawler.listing and crawler.fetch."""
