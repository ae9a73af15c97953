"""Tables every service database carries besides its own: the audit chain and idempotency keys."""

from dataclasses import dataclass

from sqlalchemy import MetaData, Table

from services.common.audit import AuditTables, define_audit_tables
from services.common.idempotency import define_idempotency_table


@dataclass(frozen=True)
class KernelTables:
    audit: AuditTables
    idempotency: Table


def define_kernel_tables(metadata: MetaData) -> KernelTables:
    return KernelTables(
        audit=define_audit_tables(metadata), idempotency=define_idempotency_table(metadata)
    )
