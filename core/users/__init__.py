"""Users, teams and how they prove who they are (passwords, web sessions, API tokens)."""
