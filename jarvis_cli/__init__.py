"""jarvis: orchestrate LLM providers from the command line."""

__version__ = "0.1.0"
