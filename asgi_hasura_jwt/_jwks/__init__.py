"""Remote keys (spec 4): when to fetch a JWKS, the download, the document, the lifespan refresher.

What the rest of the package uses; the modules below hold one job each.
"""

from .lifespan import handle_lifespan
from .remote import JWKSStatus, RemoteKeySet
from .sources import KeySources

__all__ = ["JWKSStatus", "KeySources", "RemoteKeySet", "handle_lifespan"]
