"""Clients: organizations and contact persons, their contact points, duplicates and merging."""
