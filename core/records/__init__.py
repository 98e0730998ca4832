"""What is kept around clients: files, comments, custom field definitions and the audit log."""
