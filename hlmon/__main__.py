"""``python -m hlmon`` runs the same CLI as the ``hlmon`` console script."""

from hlmon.cli import main

main()
