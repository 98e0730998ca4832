"""Import and export of clients: CSV for organizations and persons, vCard 3.0 / 4.0 for persons."""
