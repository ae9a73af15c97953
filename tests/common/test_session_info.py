"""What a service hands its database sessions: the audit key, and the info it gives the
`Database` (the gateway's open message channels), in every session, each its own copy."""

from pathlib import Path

from services.common.db import Database


async def test_every_session_carries_the_info_beside_the_audit_key(tmp_path: Path) -> None:
    key = b"k" * 32
    given = {"notify_channels": frozenset({"email", "sms"}), "audit_key": b"not the key"}
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/info.sqlite3", audit_key=key, info=given)
    try:
        async with database.sessionmaker() as one, database.sessionmaker() as two:
            # The info cannot stand in for the audit key: the chains stay keyed by the service.
            assert one.info == {"notify_channels": frozenset({"email", "sms"}), "audit_key": key}
            one.info["scratch"] = True
            assert "scratch" not in two.info
        assert given["audit_key"] == b"not the key"  # the caller's mapping is left as it was
    finally:
        await database.dispose()


async def test_a_database_given_no_info_carries_only_the_audit_key(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/plain.sqlite3", audit_key=None)
    try:
        async with database.sessionmaker() as session:
            assert session.info == {"audit_key": None}
    finally:
        await database.dispose()
