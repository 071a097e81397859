"""Where the server listens: its socket, bound before any model loads, so a taken port is told at once."""
from __future__ import annotations

import errno
import os
import socket


class ListenError(Exception):
    """The address cannot be listened on; the message is one line naming the host or port at fault."""


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: a free port), on the first address ``host`` resolves to."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                      flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise ListenError(f"cannot listen on {host!r}: {exc.strerror}") from None
    try:
        return socket.create_server(address, family=family)  # SO_REUSEADDR, as asyncio's own listeners
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ListenError(f"port {port} is in use on {host} (another `humansense serve`?); "
                              f"choose another with --port") from None
        why = os.strerror(exc.errno) if exc.errno else str(exc)  # create_server's own text repeats the address
        raise ListenError(f"cannot listen on {host}:{port}: {why}") from None
