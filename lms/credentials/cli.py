"""``flask lms credentials ...``: the issuer's signing keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.db import transaction

credentials_group = AppGroup(
    "credentials", help="Open Badges credentials: the issuer's signing keys."
)


@credentials_group.command("rotate-key")
def rotate_key_command() -> None:
    """Sign with a new key from now on; the old one stays published, so what it signed still verifies."""
    # lazy (these imports): a command loads its area's code when it runs, not for `lms --help`
    from lms.credentials.keys import keys_dir, rotate

    with transaction():
        old, new = rotate()
        old_text, new_text = old.public_key_multibase if old else None, new.public_key_multibase
    if old_text:
        click.echo(f"Retired key {old_text} (still published).")
    click.echo(f"Signing with the new key {new_text}, kept in {keys_dir()}.")


@credentials_group.command("keys")
def keys_command() -> None:
    """List the published keys."""
    # lazy (these imports): a command loads its area's code when it runs, not for `lms --help`
    from lms.credentials.keys import published_keys

    with transaction():
        for key in published_keys():
            state = f"retired {key.retired_at:%Y-%m-%d}" if key.retired_at else "signing"
            click.echo(f"{key.public_key_multibase}\t{key.created_at:%Y-%m-%d}\t{state}")
