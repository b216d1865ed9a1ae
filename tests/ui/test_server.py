"""Serving dashboards safely: loopback by default, credentials off it, a port in use named."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.errors import InvalidParameterError
from workbench.ui.server import check_bind, check_port, websocket_origins


def test_public_bind_needs_a_secret():
    check_bind("127.0.0.1", None, flag="--password", env="X")
    check_bind("0.0.0.0", "s3cret", flag="--password", env="X")
    with pytest.raises(InvalidParameterError, match="--password SECRET or set X"):
        check_bind("0.0.0.0", None, flag="--password", env="X")
    with pytest.raises(InvalidParameterError):
        check_bind("192.168.1.10", "  ", flag="--token", env="Y")


def test_a_port_in_use_is_named():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(InvalidParameterError, match=f"`--port` {port} on 127.0.0.1 is in use"):
            check_port("127.0.0.1", port)
    assert check_port("127.0.0.1", 0) > 0


def test_websocket_origins_are_the_served_address_only():
    assert websocket_origins("127.0.0.1", 80) == ["127.0.0.1:80", "localhost:80"]
    assert websocket_origins("10.0.0.5", 80) == ["10.0.0.5:80"]


@pytest.mark.parametrize("command", [["dashboard"], ["voila"]])
def test_cli_refuses_a_public_bind_without_credentials(command, monkeypatch):
    monkeypatch.delenv("WORKBENCH_DASHBOARD_PASSWORD", raising=False)
    monkeypatch.delenv("WORKBENCH_VOILA_TOKEN", raising=False)
    result = CliRunner().invoke(app, [*command, "--address", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 1
    assert "needs authentication" in result.output and "WORKBENCH_" in result.output


def test_cli_names_a_port_in_use():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        result = CliRunner().invoke(app, ["dashboard", "--port", str(s.getsockname()[1])])
    assert result.exit_code == 1 and "is in use" in result.output
