"""Survey distribution: contacts and consent, email invitations, triggers and contact rules."""
