"""The daily work with clients: interactions (what happened), tasks (what is planned), the day plan.

``interactions`` logs calls, meetings and mails and applies what their result means (a stage
reached, a refusal, the next contact); ``tasks`` keeps planned contacts and their journal,
day plan and calendar; ``reference`` holds the admin-editable kinds and results; ``clock``
knows working days and the default time zone; ``links`` resolves the client a record is about.
"""
