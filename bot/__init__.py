"""fanbot: a Discord bot for fan communities of actresses."""

__version__ = "0.1.0"
