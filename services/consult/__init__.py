"""The consult service: consultation cases with their consilia and patients' requests, patients'
appeals to hotlines and chats with their callbacks, monitoring of at-risk patients, the figures
over all of them, and FHIR views of cases and check-ins."""
