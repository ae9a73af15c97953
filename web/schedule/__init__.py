"""The specialist's own schedule: weekly hours, visit types, exceptions, a calendar of visits."""
