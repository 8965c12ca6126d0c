"""The package version, in a module of its own so that nothing imports the face."""

__version__ = "0.1.0.dev0"
