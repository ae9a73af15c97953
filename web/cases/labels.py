"""What the case screens call the API's codes in people's words (msgids; the templates
translate them): statuses, urgencies, modes, kinds of file, sexes, specialties."""

from web.navigation import N_

STATUSES = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "accepted": N_("Accepted"),
    "in_progress": N_("In progress"),
    "info_requested": N_("Information requested"),
    "concluded": N_("Concluded"),
    "declined": N_("Declined"),
    "cancelled": N_("Cancelled"),
}
# Where the deadline still runs (consult's OPEN_STATUSES, as docs/api.md lists the lifecycle).
OPEN_STATUSES = ("submitted", "accepted", "in_progress", "info_requested")
# A specialist's answer to the medic: what the medic's list marks until they open the case.
ANSWERS = frozenset({"info_requested", "concluded", "declined"})

URGENCIES = {
    "emergency": N_("Emergency"),
    "urgent": N_("Urgent"),
    "planned": N_("Planned"),
}
MODES = {
    "written": N_("Written conclusion"),
    "video": N_("Video consultation"),
    "consilium": N_("Consilium"),
}
FILE_KINDS = {
    "lab_result": N_("Laboratory result"),
    "record_extract": N_("Medical record extract"),
    "ecg": N_("ECG"),
    "imaging": N_("Imaging (DICOM study)"),
    "photo": N_("Photo"),
    "other": N_("Other document"),
}
SEXES = {"male": N_("Male"), "female": N_("Female"), "unknown": N_("Unknown")}
# Specialties a medic picks from. Consult takes any specialty code and the directory lists
# specialists only to administrators and coordinators, so the form offers these names and
# accepts any other code typed in.
SPECIALTIES = {
    "cardiology": N_("Cardiology"),
    "neurology": N_("Neurology"),
    "obstetrics": N_("Obstetrics"),
    "paediatrics": N_("Paediatrics"),
    "pulmonology": N_("Pulmonology"),
    "surgery": N_("Surgery"),
    "traumatology": N_("Traumatology"),
    "oncology": N_("Oncology"),
    "endocrinology": N_("Endocrinology"),
    "infectious_diseases": N_("Infectious diseases"),
    "nephrology": N_("Nephrology"),
    "gastroenterology": N_("Gastroenterology"),
    "psychiatry": N_("Psychiatry"),
    "radiology": N_("Radiology"),
}

# Every case template reads its words from these (`statuses[case.status]`, then translated).
LABELS = {
    "statuses": STATUSES,
    "urgencies": URGENCIES,
    "modes": MODES,
    "file_kinds": FILE_KINDS,
    "sexes": SEXES,
    "specialties": SPECIALTIES,
}
