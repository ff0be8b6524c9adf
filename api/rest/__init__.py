"""REST under ``/api/v1``, plus the operational endpoints at the root."""
