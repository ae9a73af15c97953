"""The video screens: the visits list, the video page of a room, and starting a case's room."""
