"""What the consilium screens call consult's codes in people's words (msgids; the templates
translate them)."""

from web.navigation import N_

CONSILIUM_STATUSES = {"open": N_("Open for opinions"), "concluded": N_("Concluded by the protocol")}
INVITATION_STATUSES = {
    "pending": N_("Invited, no answer yet"),
    "accepted": N_("Accepted, opinion to come"),
    "opinion_given": N_("Opinion given"),
    "declined": N_("Declined"),
    "closed": N_("Closed by the chair"),
}
# Invitations whose specialist may still answer (consult's OUTSTANDING_INVITATIONS).
OUTSTANDING = frozenset({"pending", "accepted"})
# Invitations whose specialist sits on the consilium (consult's MEMBER_STATUSES): one to them by
# name not answered yet, accepted, or answered with the opinion. Consult invites them to its room.
SEATED = frozenset({"pending", "accepted", "opinion_given"})

LABELS = {
    "consilium_statuses": CONSILIUM_STATUSES,
    "invitation_statuses": INVITATION_STATUSES,
}
