"""What the hotline screens call consult's appeal codes in people's words (msgids; the
templates translate them)."""

from web.navigation import N_

# The channels an operator files by on a live call (consult also takes `web` and `api`).
CHANNELS = {"phone": N_("Phone"), "chat": N_("Chat")}
ALL_CHANNELS = {**CHANNELS, "web": N_("Web form"), "api": N_("Regional MIS")}
CATEGORIES = {
    "question": N_("Question"),
    "appointment_help": N_("Help to get an appointment"),
    "refusal_of_free_care": N_("Refusal of free care"),
    "paid_service_imposition": N_("Payment asked for free care"),
    "waiting_time": N_("Waiting time"),
    "complaint": N_("Complaint"),
    "hospital_bed": N_("Hospital bed"),
    "other": N_("Other"),
}
# Topics the hotline does not handle: the caller is told at once where to go instead.
EXCLUDED_TOPICS = {
    "diagnosis_or_treatment": N_("Diagnosis or treatment"),
    "medicine_availability": N_("Whether a pharmacy has a medicine"),
    "emergency_care": N_("Emergency care"),
}
# The form's one "topic" question names an excluded topic by this prefix; consult files it
# under `other` with the topic, and answers it at once.
EXCLUDED_PREFIX = "excluded:"
EXCLUDED_CATEGORY = "other"
STATUSES = {
    "new": N_("New: not routed"),
    "routed": N_("Routed"),
    "in_progress": N_("In progress"),
    "resolved": N_("Resolved"),
    "redirected": N_("Redirected"),
    "closed": N_("Closed"),
}
# Where the deadline runs (consult's OPEN_APPEAL_STATUSES).
OPEN_STATUSES = ("new", "routed", "in_progress")
EVENTS = {
    "received": N_("Received"),
    "routed": N_("Routed"),
    "taken": N_("Taken"),
    "reassigned": N_("Reassigned"),
    "escalated": N_("Escalated to the organisation's head"),
    "resolved": N_("Resolved"),
    "redirected": N_("Answered with where to go"),
    "closed": N_("Closed"),
    "callback_scheduled": N_("Callback scheduled"),
    "callback_attempted": N_("Callback attempted"),
    "call_linked": N_("Call linked"),
    "recording_attached": N_("Call recording attached"),
}
CALLBACK_REASONS = {"dropped_call": N_("Dropped call"), "phone_answer": N_("Answer by phone")}
CALLBACK_STATUSES = {
    "pending": N_("Pending"),
    "reached": N_("Reached"),
    "failed": N_("Failed: every attempt unanswered"),
    "cancelled": N_("Cancelled"),
}
OUTCOMES = {"reached": N_("Reached"), "no_answer": N_("No answer"), "busy": N_("Busy")}
# How a PBX call went (consult's `CallOutcome`).
CALL_OUTCOMES = {
    "ringing": N_("Waiting for an operator"),
    "talking": N_("In conversation"),
    "completed": N_("Completed"),
    "dropped": N_("Dropped"),
}
# What a resolution says was done (consult's `ResolutionAction`), and with what result.
ACTIONS = {
    "booked_appointment": N_("Booked an appointment"),
    "moved_appointment_forward": N_("Moved an appointment forward"),
    "arranged_free_care": N_("Arranged the care free under OMS"),
    "refunded_payment": N_("Had the payment for free care refunded"),
    "arranged_home_visit": N_("Arranged a home visit"),
    "arranged_hospital_bed": N_("Arranged a hospital bed"),
    "arranged_attachment": N_("Attached the patient to the clinic they chose"),
    "called_head": N_("Called the organisation's head"),
    "referred_to_insurer": N_("Referred to the insurer"),
    "ordered_quality_check": N_("Asked for a check of the care given"),
    "explained_rights": N_("Explained the patient's rights"),
    "gave_information": N_("Gave the information asked for"),
    "redirected": N_("Redirected to the organisation that handles it"),
}
RESULTS = {
    "resolved": N_("Resolved"),
    "partially_resolved": N_("Partly resolved"),
    "refused": N_("Refused, with the reason"),
    "referred": N_("Referred elsewhere to decide"),
}

LABELS = {
    "channels": ALL_CHANNELS,
    "categories": CATEGORIES,
    "excluded_topics": EXCLUDED_TOPICS,
    "appeal_statuses": STATUSES,
    "event_kinds": EVENTS,
    "callback_reasons": CALLBACK_REASONS,
    "callback_statuses": CALLBACK_STATUSES,
    "outcomes": OUTCOMES,
    "call_outcomes": CALL_OUTCOMES,
    "resolution_actions": ACTIONS,
    "resolution_results": RESULTS,
}
