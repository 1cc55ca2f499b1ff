"""storesync local runtime: moto + simulator + the real handlers in one process group."""
