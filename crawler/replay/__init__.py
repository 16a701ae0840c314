"""The seeds replay: the seed articles served as a local portal and crawled by the real spider."""
