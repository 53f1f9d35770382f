"""The closed loop: alert rules, cases with owners and SLAs, notifications and customer follow-up."""
