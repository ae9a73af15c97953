"""The consilium screens: convening one from the case page, its page, invitations, printing."""
