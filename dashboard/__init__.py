"""The control-room UI (Plotly Dash): the wall screen, the engineer's console, the manager's
view, meter pages and the site tree. It reads everything through the HTTP API
(:mod:`dashboard.client`); ``ecc dashboard`` runs it, :func:`dashboard.app.create_app` builds it.
"""
