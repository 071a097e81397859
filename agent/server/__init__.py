"""The browser companion: the HTTP/WebSocket server, its wire protocol and limits, and its page."""
