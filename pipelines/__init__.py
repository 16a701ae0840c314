"""Scrapy item pipelines: each a few lines around one pure function of crawler/."""
