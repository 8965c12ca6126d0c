"""``python -m sknnfit``: the same command line as the ``sknnfit`` script."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
