"""Remote keys (spec 4): when to fetch a JWKS, the download, the document, the lifespan refresher.

What the rest of the package uses; the modules below hold one job each.
"""

from .lifespan import handle_lifespan
from .remote import RemoteKeySet
from .sources import KeySources
from .state import JWKSStatus

__all__ = ["JWKSStatus", "KeySources", "RemoteKeySet", "handle_lifespan"]
