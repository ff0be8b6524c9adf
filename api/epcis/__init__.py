"""The GS1 EPCIS 2.0 REST binding under ``/epcis``."""

from api.epcis.routes import router

__all__ = ["router"]
