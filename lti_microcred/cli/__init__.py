"""`microcred`: set up, run and administer the tool from the command line; one module per command group."""

from __future__ import annotations

import sys

import click

from lti_microcred.cli import doctor, frameworks, institutions, issuer, keys, moodle, platforms, setup, worker


@click.group()
@click.version_option(package_name="lti-microcred")
def main() -> None:
    """Micro-credentials LTI 1.3 tool."""


for command in (setup.init, setup.run, setup.canvas_config_command, setup.demo, platforms.platform, keys.keys,
                frameworks.framework, institutions.institution, issuer.issuer, worker.worker_command,
                moodle.moodle_ratings, doctor.doctor):
    main.add_command(command)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
