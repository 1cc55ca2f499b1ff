"""Domain rules: plain Python, no AWS and no HTTP (order states, allocation, quantity rules, delta planning)."""
