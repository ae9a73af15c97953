"""A consilium on a case: invitations, declines, signed opinions and the chair's protocol."""
