"""``python -m hlmon`` runs the same CLI as the ``hlmon`` console script."""

from hlmon.cli import main

if __name__ == "__main__":
    # Without prog_name, click would call itself "python -m hlmon" in usage and errors.
    main(prog_name="hlmon")
