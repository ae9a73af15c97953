"""Chat channels: messengers' conversations routed into appeals and their replies sent back."""
