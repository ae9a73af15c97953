"""What the knowledge-base screens call consult's codes in people's words (msgids; the templates
translate them)."""

from web.navigation import N_

CATEGORIES = {
    "oms_policy": N_("OMS policy"),
    "programme_coverage": N_("What the programme covers"),
    "choosing_clinic": N_("Choosing a clinic"),
    "care_outside_region": N_("Care outside the home region"),
    "refused_free_care": N_("Refused free care"),
    "paid_services": N_("Paid services pushed"),
    "waiting_times": N_("Long waits"),
    "drug_availability": N_("Medicines' availability"),
    "home_visits": N_("Home visits"),
    "hospitalisation": N_("Hospital admission"),
    "emergency_care": N_("Emergency care"),
    "patient_rights": N_("Patients' rights and complaints"),
}
STATUSES = {"draft": N_("Draft"), "published": N_("Published"), "archived": N_("Archived")}
LANGUAGES = {"ru": N_("Russian"), "en": N_("English")}
CHANGES = {
    "created": N_("Written"),
    "edited": N_("Edited"),
    "published": N_("Published"),
    "archived": N_("Archived"),
}
FIELD_NAMES = {
    "title": N_("title"),
    "body": N_("text"),
    "language": N_("language"),
    "categories": N_("categories"),
    "regions": N_("regions"),
    "status": N_("status"),
}
LABELS = {
    "article_categories": CATEGORIES,
    "article_statuses": STATUSES,
    "article_languages": LANGUAGES,
    "article_changes": CHANGES,
    "article_fields": FIELD_NAMES,
}
