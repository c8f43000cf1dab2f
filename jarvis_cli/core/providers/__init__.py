"""Provider adapters: one protocol, one implementation over the openai SDK."""
