"""Consultation cases: the lifecycle, messages, signed conclusions, the work queue, deadlines,
patients' requests after a visit, and consilia."""
