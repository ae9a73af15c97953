"""The patient's screens: their visits (joining a video visit), their questions to the specialist
who saw them in person, and the answers."""
