"""Commands: ``flask --app cellchain init-db | demo | create-user | audit-verify | audit-checkpoint |
audit-rotate-key | trial-init-list | trial-verify-list | idempotency-purge | send-mail``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from cellchain.audit import checkpoints, keyring, reconcile, row_changes, trail
from cellchain.core import db, migrate
from cellchain.core.errors import Invalid, Refused
from cellchain.core.submissions import idempotency
from cellchain.demo import loader as demo
from cellchain.notices import mail
from cellchain.people import accounts
from cellchain.people.rules.roles import ROLES
from cellchain.trial import randomization


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema to the newest migration (Alembic upgrade head).

    Makes the audit keyring first when there is none, and writes a checkpoint of the chain's head after.
    """
    config = current_app.config
    if keyring.ensure(config["AUDIT_KEYRING"]):
        click.echo(f"Made the audit keyring {config['AUDIT_KEYRING']} (keep it outside the database's backups).")
    migrate.upgrade(config["DATABASE_URL"], audit_keyring=config["AUDIT_KEYRING"],
                    facility_fin=config["FACILITY_FIN"])
    click.echo("Database is at the newest schema.")
    head = _head()
    if head[0] > 0:
        checkpoints.write(config, *head, force=True)


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
@click.option("--incremental", is_flag=True,
              help="Start at the newest checkpoint's entry instead of entry 1 (what was written since).")
def audit_verify_command(incremental: bool) -> None:
    """Check the audit trail: links, hashes, keyed seals and checkpoints, and that every regulated record
    holds the values its newest entries recorded; exit status 1 naming each bad entry and each difference."""
    session = db.session()
    report = trail.verify_chain(session, incremental=incremental)
    where = f"entries {report.checked_from} to the head" if report.checked_from > 1 else "the whole chain"
    checkpoint = report.checkpoint
    anchor = (f"newest checkpoint: entry {checkpoint['seq']} at {checkpoint['at']} (key {checkpoint['key_id']}), "
              f"{report.checkpoints} in the log" if checkpoint else "no checkpoint yet")
    if report.ok:
        click.echo(f"ok: {report.entries} entries verify ({where}; {anchor}).")
    else:
        click.echo(f"BROKEN at entry {report.first_bad}: {report.problem} ({report.entries} entries read, {where}; "
                   f"{report.problem_count} problem(s); {anchor}).")
        for seq, problem in report.problems:
            click.echo(f"  entry {seq}: {problem}" if seq is not None else f"  {problem}")
    records = reconcile.reconcile(session)
    if records.ok:
        click.echo(f"ok: {records.rows} regulated records hold the values the trail last recorded "
                   f"({records.fields} fields compared).")
    else:
        click.echo(f"DIFFERS: {records.difference_count} field(s) of regulated records differ from the trail "
                   f"({records.rows} records, {records.fields} fields compared):")
        for difference in records.differences:
            click.echo(f"  {difference.describe()}")
    outside = row_changes.count(session)
    if outside:
        click.echo(f"{outside} row change(s) made outside the application are in the row-change log "
                   "(the auditor's dashboard lists them).")
    if not (report.ok and records.ok):
        raise SystemExit(1)


def _head() -> tuple[int, str]:
    session = db.session()
    return tuple(session.connection().exec_driver_sql("SELECT seq, hash FROM audit_head WHERE id = 1").one())


@click.command("audit-checkpoint")
@with_appcontext
def audit_checkpoint_command() -> None:
    """Write a signed checkpoint of the chain's head now, once the chain since the last one verifies."""
    report = trail.verify_chain(db.session(), incremental=True)
    if not report.ok:
        click.echo(f"BROKEN at entry {report.first_bad}: {report.problem}; no checkpoint written.")
        raise SystemExit(1)
    seq, digest = _head()
    written = checkpoints.write(current_app.config, seq, digest, force=True)
    click.echo(f"Checkpoint of entry {seq} written." if written else f"The log already holds entry {seq}.")


@click.command("audit-rotate-key")
@with_appcontext
def audit_rotate_key_command() -> None:
    """Make a new active audit key; the old ones stay to verify what they sealed. Audited, by key id only."""
    config = current_app.config
    old_id, new_id = keyring.rotate(config["AUDIT_KEYRING"])
    keyring.forget()
    session = db.session()
    link = trail.record(session, actor=None, record_type="audit_key", record_id=new_id, action="rotate",
                        old={"active_key_id": old_id}, new={"active_key_id": new_id})
    db.commit()
    checkpoints.write(config, link.seq, link.hash, force=True)
    click.echo(f"Audit key {new_id} is active; {old_id} is kept for verifying.")


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


@click.command("idempotency-purge")
@with_appcontext
def idempotency_purge_command() -> None:
    """Delete the API's idempotency keys older than IDEMPOTENCY_KEY_HOURS (with the answers kept for them)."""
    gone = idempotency.purge(db.session(), hours=current_app.config["IDEMPOTENCY_KEY_HOURS"])
    db.commit()
    click.echo(f"Purged {gone} idempotency key(s) older than {current_app.config['IDEMPOTENCY_KEY_HOURS']} hours.")
@click.command("send-mail")
@with_appcontext
def send_mail_command() -> None:
    """Send the outbox's mails that are due (new ones, and failed ones whose wait is over); run it from the
    site's scheduler every minute or so. Exit status 1 when a mail failed again (it stays in the outbox)."""
    settings = mail.SmtpSettings.from_config(current_app.config)
    if settings is None:
        click.echo("No SMTP_HOST is configured: notices stay in the inbox; nothing to send.")
        return
    sent, failed = mail.send_due(db.session(), settings)
    db.commit()
    click.echo(f"{sent} mail(s) sent, {failed} failed (retried later).")
    if failed:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    for command in (init_db_command, demo_command, create_user_command, audit_verify_command,
                    audit_checkpoint_command, audit_rotate_key_command, trial_init_list_command,
                    trial_verify_list_command, idempotency_purge_command, send_mail_command):
        app.cli.add_command(command)
