"""storesync: connects merchants' Amazon seller accounts to a warehouse management system.

Layers inside this package (design.md section 3):
- ``storesync.domain``: plain Python rules (order states, allocation, quantities, delta planning).
- ``storesync.dal``: pynamodb models and the few queries and transactions on them.
- ``storesync.amazon``: python-amazon-sp-api clients, the shared quota gate, error mapping.
- ``storesync.usecases``: one module per job, tying the three together with adapters passed in.
- ``storesync.api``: the JSON API (Powertools event handler) used by functions/api.
"""
