from __future__ import annotations

from django.contrib import admin

from cxlens.web.distribution.models import Contact, ContactPolicy, Invitation, Trigger


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("customer_id", "project", "email", "consent", "consent_source", "consent_at", "unsubscribed_at")
    list_filter = ("consent", "project")
    search_fields = ("customer_id", "email")


@admin.register(ContactPolicy)
class ContactPolicyAdmin(admin.ModelAdmin):
    list_display = ("project", "resting_days", "cap_count", "cap_days", "mail_unknown", "link_days")


@admin.register(Trigger)
class TriggerAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "survey", "table", "delay", "active")
    list_filter = ("active", "table")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("survey", "customer_id", "email", "status", "status_reason", "send_at", "sent_at", "attempts")
    list_filter = ("status", "channel")
    search_fields = ("customer_id", "email")
    readonly_fields = ("token", "nonce")
