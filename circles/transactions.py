"""Transactions whose commit does not wait for the disk."""

import contextlib

from django.db import connection, transaction


@contextlib.contextmanager
def atomic_without_flush_wait():
    """A transaction whose COMMIT does not wait for PostgreSQL to flush its log to disk
    (synchronous_commit off, for this transaction alone). For writes that a crash may lose
    without harm and whose wait people feel: a token's last use, a notification (the like
    it describes committed durably before). What it wrote is visible to everyone at once;
    only a crash in the next fraction of a second can undo it. Inside a caller's
    transaction it is a plain savepoint: SET LOCAL would reach the caller's commit."""
    alone = not connection.in_atomic_block
    with transaction.atomic():
        if alone and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        yield
