"""FHIR R4 views of cases (ServiceRequest, Task, DiagnosticReport) and check-ins
(Observation)."""
