"""Websocket glue (spec 5): GraphQL sockets authenticate at ``connection_init``, other sockets
at the handshake, and every socket whose session expires is closed at that instant.

``auth`` decides where a socket authenticates; ``connection`` owns one socket's wrapped
``receive``/``send``; ``protocols`` holds the two GraphQL protocols' close codes and reasons;
``frames`` reads client frames strictly; ``origins`` is the cross-site rule for upgrade cookies;
``deadlines`` sleeps until an expiry without polling.
"""

from .auth import WebSocketAuth

__all__ = ["WebSocketAuth"]
