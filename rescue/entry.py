"""Console entry point. `serve` monkey-patches with gevent before anything else is imported
(DESIGN §6): Socket.IO under gevent holds ~1,000 clients where threads collapse."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"]:
        from gevent import monkey

        monkey.patch_all()
    from rescue.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
