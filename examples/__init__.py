"""Runnable recipes: each module builds an app behind `HasuraJWTMiddleware` (see the README).

Run one with uvicorn from the repository root, the config in the environment::

    HASURA_GRAPHQL_JWT_SECRET='{"type":"HS256","key":"a-development-secret-of-32-bytes-or-more"}' \
        uvicorn --factory examples.starlette_app:create_app

``demo/`` is the local Clerk-style end-to-end demo (``make demo``).
"""
