"""``python -m workbench.cli``: the ``workbench`` command."""

from workbench.cli._app import main

__all__: list[str] = []

if __name__ == "__main__":
    main()
