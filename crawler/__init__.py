"""newsmon: an incremental monitor of Chinese local-government news for investment projects."""

__version__ = "0.1.0"
