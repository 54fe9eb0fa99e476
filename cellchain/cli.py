"""Commands: ``flask --app cellchain init-db | demo | create-user | audit-verify``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from cellchain.audit import trail
from cellchain.core import db, migrate
from cellchain.core.errors import Invalid, Refused
from cellchain.demo import loader as demo
from cellchain.people import accounts
from cellchain.people.rules.roles import ROLES
from cellchain.trial import randomization


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema to the newest migration (Alembic upgrade head)."""
    migrate.upgrade(current_app.config["DATABASE_URL"])
    click.echo("Database is at the newest schema.")


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Only when the database has no users yet.")
def demo_command(if_empty: bool) -> None:
    """Load the demo people and data (safe to run twice)."""
    session = db.session()
    if if_empty and not demo.is_empty(session):
        click.echo("The database already has data; demo data not loaded.")
    else:
        created = demo.load(session, policy=accounts.Policy.from_config(current_app.config), config=current_app.config)
        db.commit()
        click.echo(f"Demo data ready ({created} new records).")
    click.echo(f"Demo logins (password '{demo.DEMO_PASSWORD}'):")
    for username, _name, roles in demo.PEOPLE:
        click.echo(f"  {username:<12} {', '.join(ROLES[r] for r in roles)}")


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(sorted(ROLES)))
@click.option("--name", "full_name", prompt="Full name (printed on signatures)")
@click.password_option()
def create_user_command(username: str, roles: tuple[str, ...], full_name: str, password: str) -> None:
    """Create an account (the site's first administrator, typically)."""
    policy = accounts.Policy.from_config(current_app.config)
    try:
        user = accounts.create_user(db.session(), actor=None, username=username, full_name=full_name,
                                    password=password, roles=list(roles), policy=policy)
    except (Invalid, Refused) as refusal:  # the same password and role rules as the administrator's page
        click.echo(f"Not created: {refusal.message}", err=True)
        raise SystemExit(1) from None
    db.commit()
    click.echo(f"Created {user.username} ({', '.join(sorted(user.roles))}).")


@click.command("audit-verify")
@with_appcontext
def audit_verify_command() -> None:
    """Check the audit trail's hash chain; exit status 1 and the first bad entry when it is broken."""
    report = trail.verify_chain(db.session())
    if report.ok:
        click.echo(f"ok: {report.entries} entries verify.")
        return
    click.echo(f"BROKEN at entry {report.first_bad}: {report.problem} ({report.entries} entries verified before it).")
    raise SystemExit(1)


@click.command("trial-init-list")
@with_appcontext
def trial_init_list_command() -> None:
    """Make the trial's concealed randomization list now (once); prints only its fingerprint and size."""
    row, made = randomization.ensure_list(db.session(), actor=None, size=current_app.config["TRIAL_PLANNED_SUBJECTS"])
    db.commit()
    click.echo(f"{'Made' if made else 'Already made'}: {len(row.entries)} positions, sha256 {row.list_hash}")


@click.command("trial-verify-list")
@with_appcontext
def trial_verify_list_command() -> None:
    """Rebuild the randomization list from its recorded seeds and check every recorded fingerprint."""
    check = randomization.verify(db.session())
    if not check.ok:
        click.echo("BROKEN: " + "; ".join(check.problems))
        raise SystemExit(1)
    click.echo(f"ok: sha256 {check.list_hash}, {check.used} positions used.")


def init_app(app: Flask) -> None:
    for command in (init_db_command, demo_command, create_user_command, audit_verify_command,
                    trial_init_list_command, trial_verify_list_command):
        app.cli.add_command(command)
