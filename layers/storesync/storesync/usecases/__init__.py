"""Use cases: one per job (and the API's), tying domain, data access and adapters together."""
