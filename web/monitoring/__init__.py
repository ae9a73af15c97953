"""The monitoring screens: today's check-ins, monitored patients, enrolment, check-ins,
discharge and the escalations (home visits, ambulances) worsening check-ins raise."""
