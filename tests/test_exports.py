"""Each public module's ``__all__`` lists exactly what it exports, and only real names."""

from __future__ import annotations

import importlib
import inspect
import types

import pytest

PUBLIC = [
    "mcpws.app",
    "mcpws.trio",
    "mcpws.asyncio",
    "mcpws.core.channel",
    "mcpws.core.connection",
    "mcpws.core.errors",
    "mcpws.core.jsonrpc",
    "mcpws.core.mcp",
    "mcpws.core.session",
    "mcpws.core.stdio",
    "mcpws.core.versions",
    "mcpws.core.websocket",
    "mcpws.sdk",
    "mcpws.fastmcp",
]


@pytest.mark.parametrize("name", [*PUBLIC, "mcpws.lowlevel"])
def test_all_names_exist_once(name: str) -> None:
    module = importlib.import_module(name)
    assert len(set(module.__all__)) == len(module.__all__)
    for exported in module.__all__:
        assert hasattr(module, exported), exported


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_class_and_function_defined_there_is_in_all(name: str) -> None:
    module = importlib.import_module(name)
    defined_here = {
        attribute
        for attribute, value in vars(module).items()
        if not attribute.startswith("_")
        and isinstance(value, type | types.FunctionType)
        and (value.__module__ == name or value.__module__.startswith(f"{name}._"))
    }
    assert defined_here
    assert defined_here <= set(module.__all__)


@pytest.mark.parametrize(
    ("package", "privates"),
    [
        ("mcpws.core.mcp", ("_types", "_methods")),
        ("mcpws.core.session", ("_client", "_config", "_events", "_server", "_state")),
        (
            "mcpws.core.websocket",
            ("_client", "_config", "_deflate", "_events", "_policy", "_server"),
        ),
        ("mcpws.app", ("_asking", "_client", "_context", "_driving", "_errors", "_server")),
        ("mcpws.trio", ("_connect", "_serve")),
        ("mcpws.asyncio", ("_connect", "_serve")),
        ("mcpws.sdk", ("_client", "_seams")),
    ],
)
def test_packages_reexport_their_private_modules(package: str, privates: tuple[str, ...]) -> None:
    public = importlib.import_module(package)
    for private in privates:
        module = importlib.import_module(f"{package}.{private}")
        assert set(module.__all__) <= set(public.__all__)


def test_lowlevel_holds_what_drivers_are_built_from_and_app_what_applications_use() -> None:
    lowlevel = importlib.import_module("mcpws.lowlevel")
    app = importlib.import_module("mcpws.app")
    assert not set(lowlevel.__all__) & set(app.__all__)
    for private in ("_kernel", "_pumping", "_registry", "_shortage"):
        module = importlib.import_module(f"mcpws.app.{private}")
        assert set(module.__all__) <= set(lowlevel.__all__)


def test_the_drivers_offer_one_api() -> None:
    """An application changes event loop by changing one import: the same names (asyncio
    adds ``TaskStatus``, its stand-in for trio's ``nursery.start``), and ``serve`` and
    ``connect`` take the same parameters with the same defaults."""
    trio_driver = importlib.import_module("mcpws.trio")
    asyncio_driver = importlib.import_module("mcpws.asyncio")
    assert set(asyncio_driver.__all__) - set(trio_driver.__all__) == {"TaskStatus"}
    assert set(trio_driver.__all__) <= set(asyncio_driver.__all__)
    for name in ("serve", "connect"):
        ours = inspect.signature(getattr(trio_driver, name)).parameters
        theirs = inspect.signature(getattr(asyncio_driver, name)).parameters
        assert list(ours) == list(theirs)
        for parameter in ours.values():
            if parameter.name != "task_status":  # trio's default is its own "ignored"
                assert theirs[parameter.name].default == parameter.default, parameter.name
                assert theirs[parameter.name].kind == parameter.kind, parameter.name
