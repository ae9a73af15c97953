"""What the monitoring screens call consult's codes in people's words (msgids; the templates
translate them). A code the console does not know (a region's own programme or rule) is shown
as consult names it."""

from web.navigation import N_

PROGRAMMES = {
    "home_treatment": N_("Home treatment of an acute respiratory infection"),
    "pregnancy_high_risk": N_("High-risk pregnancy"),
}
SYMPTOMS = {
    "breathing_difficulty": N_("Difficulty breathing"),
    "chest_pain": N_("Chest pain"),
    "confusion": N_("Confusion"),
    "cannot_drink": N_("Cannot drink"),
    "severe_headache": N_("Severe headache"),
    "visual_disturbance": N_("Visual disturbance"),
    "epigastric_pain": N_("Pain under the ribs (epigastric)"),
    "vaginal_bleeding": N_("Vaginal bleeding"),
    "reduced_fetal_movement": N_("Reduced fetal movement"),
    "oedema": N_("New swelling of the face or hands"),
}
RULES = {
    "hypoxaemia": N_("Oxygen saturation low"),
    "tachypnoea": N_("Breathing too fast"),
    "persistent_fever": N_("Fever for several days"),
    "breathing_difficulty": N_("Difficulty breathing"),
    "chest_pain": N_("Chest pain"),
    "confusion": N_("Confusion"),
    "dehydration": N_("Cannot drink"),
    "severe_systolic_hypertension": N_("Severe systolic hypertension"),
    "severe_diastolic_hypertension": N_("Severe diastolic hypertension"),
    "systolic_hypertension": N_("Systolic hypertension"),
    "diastolic_hypertension": N_("Diastolic hypertension"),
    "headache_with_visual_disturbance": N_("Headache with visual disturbance"),
    "epigastric_pain": N_("Epigastric pain"),
    "bleeding": N_("Bleeding"),
    "reduced_fetal_movement": N_("Reduced fetal movement"),
    "oedema": N_("Swelling"),
}
# The vital signs a check-in records, in the order the form asks them, with their units.
VITALS = {
    "systolic_bp": (N_("Systolic pressure"), N_("mmHg")),
    "diastolic_bp": (N_("Diastolic pressure"), N_("mmHg")),
    "heart_rate": (N_("Heart rate"), N_("beats a minute")),
    "respiratory_rate": (N_("Breathing rate"), N_("breaths a minute")),
    "temperature_c": (N_("Temperature"), N_("°C")),
    "spo2": (N_("Oxygen saturation"), N_("per cent")),
}
WELLBEING = {"better": N_("Better"), "same": N_("The same"), "worse": N_("Worse")}
ESCALATIONS = {"home_visit": N_("Home visit"), "ambulance": N_("Ambulance")}
TASK_STATUSES = {"open": N_("To arrange"), "done": N_("Done")}
ENROLMENT_STATUSES = {"active": N_("Monitored"), "discharged": N_("Discharged")}
DISCHARGE_REASONS = {
    "recovered": N_("Recovered"),
    "hospitalised": N_("Hospitalised"),
    "delivered": N_("Delivered"),
    "transferred": N_("Transferred to another organisation"),
    "declined": N_("Declined further calls"),
    "died": N_("Died"),
    "other": N_("Other"),
}

LABELS = {
    "programme_names": PROGRAMMES,
    "symptom_names": SYMPTOMS,
    "rule_names": RULES,
    "vital_names": VITALS,
    "wellbeing_names": WELLBEING,
    "escalation_names": ESCALATIONS,
    "task_statuses": TASK_STATUSES,
    "enrolment_statuses": ENROLMENT_STATUSES,
    "discharge_reasons": DISCHARGE_REASONS,
}
