"""Home-visit calls: a doctor or nurse called to a caller's home by the polyclinic serving it."""
