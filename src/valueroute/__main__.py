"""``python -m valueroute`` runs the command line."""

from valueroute.cli import main

raise SystemExit(main())
