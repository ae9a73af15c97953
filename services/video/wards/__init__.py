"""ICU video monitoring: a hospital's wards and beds, their standing bedside cameras, the
regional centre's overview of many beds, and the alarm when a bed's picture stops."""
