"""What the consult domains need from outside the service, as plain callables the edge wires."""

import uuid
from collections.abc import Awaitable, Callable

from gateway.client import Organization

# The directory's organisation by id, looked up with the caller's own token.
OrganizationLookup = Callable[[uuid.UUID], Awaitable[Organization]]
