"""The package version, in a module of its own so that reports can print it without importing
the whole package."""

__version__ = "0.1.0"
