"""The server's gate: only the page's own assets, a Host allowlist on every path, Origin and token at the handshake."""
import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from agent.config import ConfigError, load_config
from agent.server.hosts import host_allowed
from tests.agent.server.clients import RawClient, expect, http_get, running

pytestmark = pytest.mark.slow


def test_serves_the_page_assets_and_nothing_else(models):
    async def scenario():
        async with running(models) as port:
            status, head, body = await http_get(port, "/")
            assert status == 200 and "text/html" in head and b"app.js" in body
            assert "Content-Security-Policy" in head and "nosniff" in head
            for path, ctype in [("/app.js", "javascript"), ("/worklet.js", "javascript"), ("/style.css", "text/css")]:
                status, head, body = await http_get(port, path)
                assert status == 200 and ctype in head and body
            for evil in ["/../server.py", "/..%2fserver.py", "/%2e%2e/agent/server.py", "/web/app.js",
                         "//etc/passwd", "/app.js/../../server.py", "/index.html%00", "/protocol.py", "/.env"]:
                status, _, body = await http_get(port, evil)
                assert status == 404, evil
                assert b"import" not in body
    asyncio.run(scenario())


def test_token_and_origin_are_checked_at_the_handshake(models):
    async def scenario():
        async with running(models, token="s3cret", require_token=True) as port:
            base = f"ws://127.0.0.1:{port}/ws"
            with pytest.raises(InvalidStatus) as info:
                async with connect(base):
                    pass
            assert info.value.response.status_code == 401
            with pytest.raises(InvalidStatus) as info:
                async with connect(base + "?token=wrong"):
                    pass
            assert info.value.response.status_code == 403
            with pytest.raises(InvalidStatus) as info:
                async with connect(base + "?token=s3cret", origin="http://evil.example"):
                    pass
            assert info.value.response.status_code == 403
            async with connect(base + "?token=s3cret", origin=f"http://127.0.0.1:{port}") as ws:
                assert (await expect(ws, "hello", 30))["protocol"] == 1
            async with connect(base, subprotocols=["humansense.token.s3cret"]) as ws:
                assert ws.subprotocol == "humansense.token.s3cret"
                assert (await expect(ws, "hello", 30))["protocol"] == 1
    asyncio.run(scenario())


async def handshake_status(port, host, origin=None, path="/ws"):
    client = await asyncio.to_thread(RawClient, port, host=host, origin=origin, path=path)
    client.close()
    return client.status


def test_a_rebound_dns_name_is_refused_on_every_path(models):
    async def scenario():
        async with running(models) as port:
            evil = f"evil.example:{port}"
            for path in ["/", "/app.js", "/style.css"]:
                status, _, body = await http_get(port, path, host=evil)
                assert status == 403 and body == b"Host not allowed\n", path
            assert await handshake_status(port, evil, origin=f"http://{evil}") == 403
            assert await handshake_status(port, evil) == 403
            assert await handshake_status(port, f"127.0.0.1.evil.example:{port}") == 403
            for host in [f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST.:{port}", f"[::1]:{port}", "localhost",
                         "localhost:9000"]:  # any port: an SSH tunnel moves it
                assert await handshake_status(port, host, origin=f"http://{host}") == 101, host
                status, _, _ = await http_get(port, "/", host=host)
                assert status == 200, host
    asyncio.run(scenario())


def test_allowed_hosts_come_from_the_config(models):
    config = load_config(None, ["output.terminal=false", "server.allowed_hosts=['companion.example.com']"])

    async def scenario():
        async with running(models, config=config) as port:
            status, _, _ = await http_get(port, "/", host="Companion.Example.com")
            assert status == 200
            host = f"companion.example.com:{port}"
            assert await handshake_status(port, host, origin=f"http://{host}") == 101
            status, _, _ = await http_get(port, "/", host="other.example.com")
            assert status == 403
    asyncio.run(scenario())


def test_a_host_is_allowed_by_name_or_by_the_address_the_client_reached():
    lan = ("192.168.1.5", 8765)  # a non-loopback bind, as `serve --host 192.168.1.5` (which requires a token)
    assert host_allowed("192.168.1.5:8765", lan, frozenset())
    assert not host_allowed("localhost:8765", lan, frozenset())
    assert not host_allowed("evil.example:8765", lan, frozenset())
    assert host_allowed("box.lan:8765", lan, frozenset({"box.lan"}))
    assert host_allowed("localhost:8765", ("::ffff:127.0.0.1", 8765), frozenset())  # a dual-stack socket
    for malformed in [None, "", ":8765", "localhost:http", "::1", "[::1", "localhost:80:80"]:
        assert not host_allowed(malformed, ("127.0.0.1", 8765), frozenset()), malformed
    with pytest.raises(ConfigError, match=r"server: allowed_hosts: 'http://x.example' is not a host name"):
        load_config(None, ["server.allowed_hosts=['http://x.example']"])
