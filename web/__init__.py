"""The dashboard: static files served by the API at ``/`` (see api/web.py)."""
