"""The specialist's own schedule: weekly hours, visit types, exceptions, and a calendar of visits."""
