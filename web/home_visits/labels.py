"""What the home-visit screens call consult's codes in people's words (msgids; the templates
translate them)."""

from web.navigation import N_

STATUSES = {
    "requested": N_("Requested: nobody sent yet"),
    "assigned": N_("Assigned"),
    "done": N_("Done"),
    "cancelled": N_("Cancelled"),
}
URGENCIES = {"planned": N_("Planned"), "urgent": N_("Urgent")}
CANCEL_REASONS = {
    "caller_withdrew": N_("The caller withdrew the call"),
    "ambulance_called": N_("Worse: an ambulance was called"),
    "hospitalised": N_("Taken to hospital"),
    "not_at_home": N_("Nobody at home"),
    "wrong_polyclinic": N_("Another polyclinic serves the address"),
    "duplicate": N_("The same call filed twice"),
    "other": N_("Other (say why)"),
}
LABELS = {
    "visit_statuses": STATUSES,
    "urgencies": URGENCIES,
    "cancel_reasons": CANCEL_REASONS,
}
