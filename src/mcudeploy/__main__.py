"""`python -m mcudeploy` is the `mcudeploy` command."""

from mcudeploy.cli.app import main

main()
