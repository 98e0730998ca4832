"""Lists of clients: static groups, saved segments, the blocklist and the mailing suppression list."""
