"""The home-visit screens: calling a doctor home, a polyclinic's day list, a visit, figures."""
