"""Patients' appeals to hotlines and medical chats: routing by territory, deadlines in working
hours, escalation, resolutions and callbacks."""
