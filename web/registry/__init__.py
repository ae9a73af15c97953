"""The registry and call centre's screens: finding and registering patients, booking their
visits and acting on them."""
