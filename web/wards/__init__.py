"""The ICU monitoring screens: the wards, the duty intensivist's overview, ward management."""
