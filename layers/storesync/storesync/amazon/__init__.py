"""The Amazon adapter: python-amazon-sp-api clients for a store, the shared quota gate, error mapping."""
