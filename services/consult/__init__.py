"""Doctor-to-doctor consultations: cases, lifecycle, message threads and signed conclusions."""
