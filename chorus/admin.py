"""Back-office of the catalogue, the habilitations and the audit trail (operators only)."""

import json

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from chorus import audit
from chorus.actions import AuditAction, action_label
from chorus.models import Application, AuditEvent, Domain, Habilitation, Profile, SecurityPolicy


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "order")
    list_editable = ("order",)
    search_fields = ("name", "code")
    ordering = ("order", "name")


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "domain",
        "section",
        "access",
        "governed_by",
        "is_listed",
        "order",
    )
    list_filter = ("domain", "access", "is_listed")
    search_fields = ("name", "code", "section")
    ordering = ("domain__order", "order", "name")
    list_select_related = ("domain", "governed_by")
    autocomplete_fields = ("domain", "governed_by")


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("__str__", "application", "level")
    list_filter = ("level", "application__domain")
    search_fields = ("application__name", "application__code")
    ordering = ("application__name", "level")
    list_select_related = ("application",)
    autocomplete_fields = ("application",)

    def get_queryset(self, request):
        # __str__ reads the application name: also true of the autocomplete results
        # that the habilitation form requests from here.
        return super().get_queryset(request).select_related("application")


class HabilitationAdminForm(forms.ModelForm):
    # No Meta: the admin builds the form for its model from its fields.
    def clean(self):
        cleaned_data = super().clean()
        structure, service = cleaned_data.get("structure"), cleaned_data.get("service")
        # The autocomplete lists every service: the pair is checked here.
        if structure and service and service.structure_id != structure.pk:
            self.add_error("service", _("Ce service n’appartient pas à la structure choisie."))
        return cleaned_data


@admin.register(Habilitation)
class HabilitationAdmin(admin.ModelAdmin):
    form = HabilitationAdminForm
    list_display = ("user", "profile", "structure", "service", "granted_by", "created_at")
    list_filter = (
        ("profile__application", admin.RelatedOnlyFieldListFilter),
        "profile__level",
    )
    search_fields = (
        "user__email",
        "user__last_name",
        "structure__identifier",
        "structure__company_name",
        "service__code",
        "profile__application__name",
        "profile__application__code",
    )
    ordering = (
        "structure__company_name",
        "user__email",
        "profile__application__name",
        "profile__level",
    )
    list_select_related = ("user", "structure", "service", "profile__application", "granted_by")
    autocomplete_fields = ("user", "structure", "service", "profile", "granted_by")
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"


class ActionFilter(admin.SimpleListFilter):
    """The actions by their French label; the choices come from AuditAction, without
    reading the whole trail for its distinct codes."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return sorted(((code, str(label)) for code, label in AuditAction.choices), key=lambda c: c[1])

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(action=self.value())
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The trail is read, never written, from here: operators see it, nobody edits it."""

    list_display = ("created_at", "actor_display", "action_display", "object_type", "object_repr")
    list_filter = (ActionFilter, "object_type")
    # The email as recorded: also found once the account is deleted.
    search_fields = ("action", "object_repr", "object_id", "actor_email", "actor__email", "actor__last_name")
    ordering = ("-created_at", "-id")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "actor",
        # As recorded, and covered by the hash: kept when the account is deleted.
        "actor_id_value",
        "actor_email",
        "action_display",
        # The code as recorded (and hashed), for searching the trail.
        "action_code",
        "object_type",
        "object_id",
        "object_repr",
        "structure",
        "structure_id_value",
        "changes_display",
        # The chain that `manage.py audit_verify` recomputes.
        "prev_hash",
        "hash",
    )
    readonly_fields = fields

    @admin.display(description=_("action"), ordering="action")
    def action_display(self, obj):
        return action_label(obj.action)

    @admin.display(description=_("code de l’action"))
    def action_code(self, obj):
        return obj.action

    @admin.display(description=_("auteur"), ordering="actor_email")
    def actor_display(self, obj):
        return obj.actor_label

    @admin.display(description=_("avant / après"))
    def changes_display(self, obj):
        return format_html(
            "<pre>{}</pre>", json.dumps(obj.changes, indent=2, ensure_ascii=False, default=str)
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SecurityPolicy)
class SecurityPolicyAdmin(admin.ModelAdmin):
    """One row: what the operators require of every user. Each change is audited."""

    fields = ("two_factor_required", "updated_at")
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request):
        return not SecurityPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        before = SecurityPolicy.load()
        super().save_model(request, obj, form, change)
        changes = audit.diff(
            {"two_factor_required": before.two_factor_required},
            {"two_factor_required": obj.two_factor_required},
        )
        if changes:
            audit.record(
                actor=request.user, obj=obj, action=AuditAction.SECURITY_POLICY_UPDATE, changes=changes
            )
