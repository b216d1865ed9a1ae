"""Serving the dashboards: offline resources, a safe bind, authentication off the loopback.

``workbench dashboard`` and ``workbench voila`` go through :func:`check_bind` and
:func:`check_port` before starting anything, so a public address without credentials or a port
already taken is refused with a message that says how to fix it. :func:`serve_panel` serves the
Panel pages with every JavaScript and CSS file from the server itself (never a CDN) and
websocket connections accepted only from the served address.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from collections.abc import Callable, Mapping
from typing import Any

from workbench.errors import InvalidParameterError

__all__ = ["PASSWORD_ENV", "TOKEN_ENV", "is_loopback", "check_bind", "check_port", "free_port",
           "websocket_origins", "offline_panel", "serve_panel"]

PASSWORD_ENV = "WORKBENCH_DASHBOARD_PASSWORD"
"""Environment variable holding the dashboard's basic-auth password (instead of ``--password``)."""

TOKEN_ENV = "WORKBENCH_VOILA_TOKEN"
"""Environment variable holding the Voila server's token (instead of ``--token``)."""


def is_loopback(address: str) -> bool:
    """True when ``address`` only accepts connections from this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def check_bind(address: str, secret: str | None, *, flag: str, env: str) -> None:
    """Refuse a non-loopback ``address`` without a ``secret`` (password or token).

    Raises
    ------
    InvalidParameterError
        The address is reachable from other machines and no credential was given; the message
        names the flag and the environment variable that set one.

    Examples
    --------
    >>> check_bind("127.0.0.1", None, flag="--password", env=PASSWORD_ENV)
    >>> check_bind("0.0.0.0", None, flag="--password", env=PASSWORD_ENV)
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `--address` 0.0.0.0 is reachable from other machines and needs authentication; give --password SECRET or set WORKBENCH_DASHBOARD_PASSWORD (or bind 127.0.0.1, the default).
    """
    if not isinstance(address, str) or not address.strip():
        raise InvalidParameterError(f"`--address` must be a host name or IP address; got {address!r}.")
    if is_loopback(address) or (secret is not None and secret.strip()):
        return
    raise InvalidParameterError(
        f"`--address` {address} is reachable from other machines and needs authentication; give {flag} SECRET "
        f"or set {env} (or bind 127.0.0.1, the default)."
    )


def check_port(address: str, port: int) -> int:
    """Return ``port`` (a free one when 0) after checking nothing listens on it at ``address``.

    Raises
    ------
    InvalidParameterError
        The port is out of range or already in use (the message says to pick another).
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidParameterError(f"`--port` must be an integer in [0, 65535]; got {port!r}.")
    if port == 0:
        return free_port(address)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((address, port))
        except OSError as exc:
            raise InvalidParameterError(
                f"`--port` {port} on {address} is in use ({exc.strerror}); choose another with --port N "
                f"(or --port 0 for any free one), or stop the program listening there."
            ) from None
    return port


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at ``address`` right now."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def websocket_origins(address: str, port: int) -> list[str]:
    """The ``host:port`` origins a page's websocket may come from: the served address (and its
    names: ``localhost`` for the loopback, the machine's names for a wildcard bind).

    >>> websocket_origins("127.0.0.1", 5006)
    ['127.0.0.1:5006', 'localhost:5006']
    """
    hosts = [address]
    if is_loopback(address):
        hosts += ["localhost", "127.0.0.1"]
    elif address in ("0.0.0.0", "::"):
        hosts = [socket.gethostname(), socket.getfqdn()]
    return [f"{h}:{port}" for h in dict.fromkeys(hosts)]


def offline_panel(*extensions: str) -> Any:
    """Load Panel with inline resources (JavaScript and CSS from the server, no CDN)."""
    from workbench._extras import require

    require("dashboards")
    os.environ.setdefault("BOKEH_RESOURCES", "server")
    import panel as pn

    pn.config.inline = True
    pn.extension(*extensions, inline=True)
    return pn


def serve_panel(pages: Mapping[str, Callable[[], Any]], *, port: int, address: str = "127.0.0.1",
                password: str | None = None, show: bool = False, title: str = "Quant Workbench",
                start: bool = True) -> Any:
    """Serve ``pages`` (name → function building the page) with Panel; blocks until stopped
    unless ``start=False`` (then the server object is returned, not started)."""
    check_bind(address, password, flag="--password", env=PASSWORD_ENV)
    port = check_port(address, port)
    pn = offline_panel("tabulator")
    extra: dict[str, Any] = {}
    if password:
        extra = {"basic_auth": password, "cookie_secret": secrets.token_hex(32)}
    return pn.serve(dict(pages), port=port, address=address, websocket_origin=websocket_origins(address, port),
                    show=show, title=title, start=start, threaded=False, **extra)
