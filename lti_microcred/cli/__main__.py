"""`python -m lti_microcred.cli`: the `microcred` command without its console script."""

from lti_microcred.cli import main

main()
