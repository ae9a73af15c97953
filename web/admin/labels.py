"""What the administrator's screens call the API's codes in people's words (msgids; the
templates translate them), and the lists forms choose from."""

from services.common.outbox import EventType
from web.navigation import N_, ROLE_NAMES

ROLES = ROLE_NAMES
KINDS = {
    "district_hospital": N_("District hospital"),
    "regional_centre": N_("Regional centre"),
    "polyclinic": N_("Polyclinic"),
    "insurer": N_("Insurer"),
    "call_centre": N_("Call centre"),
    "hotline": N_("Hotline"),
    "other": N_("Other organisation"),
}
WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
# The gateway's allow-list of an API client's scopes (gateway/scopes.py; a test holds the two
# equal): what each grants, in people's words.
CLIENT_SCOPES = {
    "consult:read": N_("Read consultations and conclusions"),
    "consult:write": N_("Open and change consultations"),
    "files:read": N_("Read attached files"),
    "files:write": N_("Upload files"),
    "telephony:events": N_("Report a PBX's calls and recordings to the hotline"),
    "webhooks:manage": N_("Manage its own webhook subscriptions"),
}
SERVICE_SCOPES = {"video:rooms": N_("Control every appointment's video room (service clients)")}
EVENT_TYPES = tuple(event_type.value for event_type in EventType)
DELIVERY_STATUSES = {
    "pending": N_("Pending"),
    "delivered": N_("Delivered"),
    "failed": N_("Failed"),
}
CHANNELS = {"email": N_("email"), "sms": N_("SMS")}
SERVICES = {
    "gateway": N_("Gateway: identity, directory, webhooks"),
    "consult": N_("Consultations, appeals, monitoring"),
    "scheduling": N_("Scheduling"),
    "video": N_("Video"),
    "files": N_("Files"),
}
LANGUAGES = {"ru": "Русский", "en": "English"}

LABELS = {
    "roles": ROLES,
    "kinds": KINDS,
    "weekdays": WEEKDAYS,
    "client_scopes": CLIENT_SCOPES,
    "service_scopes": SERVICE_SCOPES,
    "event_types": EVENT_TYPES,
    "delivery_statuses": DELIVERY_STATUSES,
    "channels": CHANNELS,
    "services": SERVICES,
    "languages": LANGUAGES,
}
