"""Monitoring of at-risk patients: enrolments, check-ins against programme thresholds, and the
home-visit or ambulance tasks a worsening creates."""
