"""REST under ``/api/v1``, plus the operational endpoints at the root."""

#: Every REST operation's path starts here (routers carry it, so route templates are whole).
API_V1 = "/api/v1"
