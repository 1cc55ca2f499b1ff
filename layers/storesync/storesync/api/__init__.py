"""The JSON API: one Powertools APIGatewayHttpResolver (app.py) with one Router per area (routes_<area>.py)."""
