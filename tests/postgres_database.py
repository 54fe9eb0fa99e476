"""One PostgreSQL database per pytest worker, put back to the migrated template's exact state after each test.

``CREATE DATABASE ... TEMPLATE`` and ``DROP DATABASE`` per test cost far more than most tests (new files,
fsyncs, WAL for every page of the template), so a worker makes its database once and, between tests,
empties every table and loads the template's rows and sequence values again, in one transaction with
triggers off (the append-only tables refuse DELETE otherwise). Tests still commit for real, fire the
triggers and open concurrent connections against a database of their own.

Whatever the reset cannot put back falls back to a fresh copy of the template: a schema that a test
changed (a trigger dropped or disabled, a table added: compared by a fingerprint of the catalog), and any
error or lock wait during the reset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

# Everything in the public schema a test could change without changing rows: tables and columns,
# constraints, indexes, triggers and whether they are enabled, functions, sequences, schemas, extensions
# and the database's settings.
FINGERPRINT = """
SELECT md5(string_agg(item, E'\\n' ORDER BY item)) FROM (
  SELECT 'col ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' '
         || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') AS item
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || c.relpersistence::text FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
  UNION ALL
  SELECT 'con ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
   WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'idx ' || indexrelid::regclass::text || ' ' || pg_get_indexdef(indexrelid) FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
  UNION ALL
  SELECT 'trg ' || tgrelid::regclass::text || ' ' || tgname || ' ' || tgenabled::text || ' ' || pg_get_triggerdef(oid)
    FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'fn ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) FROM pg_proc p
   WHERE p.pronamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'nsp ' || nspname FROM pg_namespace
  UNION ALL
  SELECT 'ext ' || extname || ' ' || extversion FROM pg_extension
  UNION ALL
  SELECT 'set ' || array_to_string(setconfig, ',') FROM pg_db_role_setting
   WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) AS catalog
"""

TABLES = "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
SEQUENCES = ("SELECT quote_ident(sequencename), coalesce(last_value, start_value), last_value IS NOT NULL "
             "FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename")


@dataclass
class Snapshot:
    """The template's rows (COPY format) and sequence positions, and its schema's fingerprint."""

    fingerprint: str
    tables: list[str]
    rows: dict[str, bytes] = field(default_factory=dict)
    sequences: list[tuple[str, int, bool]] = field(default_factory=list)


def snapshot(conninfo: str) -> Snapshot:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        taken = Snapshot(conn.execute(FINGERPRINT).fetchone()[0], [row[0] for row in conn.execute(TABLES)])
        for table in taken.tables:
            data = bytearray()
            with conn.cursor().copy(sql.SQL("COPY {} TO STDOUT").format(sql.SQL(table))) as copy:
                for chunk in copy:
                    data += chunk
            if data:
                taken.rows[table] = bytes(data)
        taken.sequences = [tuple(row) for row in conn.execute(SEQUENCES)]
    return taken


def disconnect_others(admin_conninfo: str, database: str) -> None:
    """End every session still open on the database (a server a test left running, a pooled connection)."""
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))


def reset(conninfo: str, template: Snapshot) -> bool:
    """Put the database back to the template's rows; False when only a fresh copy can (schema changed)."""
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET lock_timeout = '10s'")
        if conn.execute(FINGERPRINT).fetchone()[0] != template.fingerprint:
            return False
        # No triggers (the append-only guards) and no foreign-key checks while the rows are swapped. DELETE,
        # not TRUNCATE: the tables hold a handful of rows, and TRUNCATE makes and syncs new files for each
        # (half a second a test). See keep_insertion_order for why the dead rows may stay.
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("SET LOCAL synchronous_commit = off")  # nothing here needs to survive a server crash
        for table in template.tables:
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.SQL(table)))
        for table, data in template.rows.items():
            with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(sql.SQL(table))) as copy:
                copy.write(data)
        for sequence, value, is_called in template.sequences:
            conn.execute("SELECT setval(%s, %s, %s)", (sequence, value, is_called))
        conn.commit()
    return True


def keep_insertion_order(conninfo: str) -> None:
    """No autovacuum on this database's tables.

    Rows that reset deletes stay as dead tuples; only VACUUM would free their space for new rows, and a new
    row in an old row's place would come back from a query without ORDER BY before rows inserted earlier,
    which a fresh copy of the template never does. Without vacuum, rows stay in insertion order.
    """
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for (table,) in conn.execute(TABLES).fetchall():
            conn.execute(sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = false)").format(sql.SQL(table)))
