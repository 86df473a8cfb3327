"""``python -m asgi_hasura_jwt``: the ``asgi-hasura-jwt`` command, for environments without the
console script on ``PATH``."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
