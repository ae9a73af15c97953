"""The console's consultation case screens: the medic's cases and new-case form, the
specialist's queue, the case page with its timeline, attachments and conclusion."""
