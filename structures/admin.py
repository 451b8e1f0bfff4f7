"""Back-office of structures and services (operators only).

Operators assign a new principal manager here when the previous one left without
transferring the role (invariant one-principal-manager, docs/architecture.md)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from chorus import audit
from chorus.actions import AuditAction
from core.storage import download_response
from structures.models import (
    RESERVED_SERVICE_CODE,
    Attachment,
    BankAccount,
    Service,
    Structure,
    StructureClaim,
)
from structures.services import claims
from structures.services.attachments import attachment_delete
from users.models import Membership


class ServiceInline(admin.TabularInline):
    """Services are read here and edited from their own page."""

    model = Service
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("code", "name", "is_active", "commitment_required", "valid_from", "valid_until")
    readonly_fields = fields
    ordering = ("code",)

    def has_add_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    """Who is attached, for reading: attachments change through the membership admin,
    which keeps the principal manager rules."""

    model = Membership
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("user", "service", "status", "started_at", "ended_at")
    readonly_fields = fields
    ordering = ("user__last_name", "user__first_name", "user__email", "service__code")
    verbose_name_plural = _("utilisateurs rattachés")

    def get_queryset(self, request):
        # The row title is the membership's __str__, which reads the structure too.
        return super().get_queryset(request).select_related("user", "structure", "service")

    def has_add_permission(self, request, obj=None):
        return False


class StructureAdminForm(forms.ModelForm):
    # No Meta: the admin builds the form for its model from its fields.
    def clean(self):
        cleaned_data = super().clean()
        if "principal_manager" not in self.changed_data:
            return cleaned_data
        manager = cleaned_data.get("principal_manager")
        validated = Membership.objects.filter(structure_id=self.instance.pk, status=Membership.Status.VALIDEE)
        if manager is not None:
            # Invariant principal-manager-is-attached (docs/architecture.md).
            if self.instance.pk is None or not validated.filter(user=manager).exists():
                self.add_error(
                    "principal_manager",
                    _(
                        "Le gestionnaire principal doit avoir un rattachement validé à cette "
                        "structure : rattachez d’abord l’utilisateur."
                    ),
                )
        elif (
            cleaned_data.get("status") == Structure.Status.ACTIVE and self.instance.pk and validated.exists()
        ):
            # Invariant one-principal-manager (docs/architecture.md): an active structure with
            # attached users has exactly one.
            self.add_error(
                "principal_manager",
                _(
                    "Une structure active dont des utilisateurs sont rattachés doit avoir "
                    "un gestionnaire principal."
                ),
            )
        return cleaned_data


@admin.register(Structure)
class StructureAdmin(admin.ModelAdmin):
    form = StructureAdminForm
    list_display = (
        "identifier",
        "company_name",
        "identifier_type",
        "kind",
        "status",
        "principal_manager",
        "city",
        "updated_at",
    )
    list_filter = ("status", "kind", "identifier_type")
    search_fields = (
        "identifier",
        "company_name",
        "label",
        "vat_number",
        "city",
        "principal_manager__email",
    )
    ordering = ("company_name", "identifier")
    list_select_related = ("principal_manager",)
    autocomplete_fields = ("principal_manager", "origin")
    readonly_fields = ("created_at", "updated_at", "insee_updated_at")
    inlines = (ServiceInline, MembershipInline)
    fieldsets = (
        (
            _("Identification"),
            {
                "fields": (
                    ("identifier_type", "identifier"),
                    "company_name",
                    "label",
                    ("last_name", "first_name"),
                    "rcs_number",
                    "vat_number",
                    "kind",
                )
            },
        ),
        (_("Gestion"), {"fields": ("status", "principal_manager", "origin")}),
        (_("Coordonnées"), {"fields": ("email", "phone")}),
        (
            _("Adresse postale"),
            {
                "fields": (
                    "address",
                    "address_complement_1",
                    "address_complement_2",
                    ("postcode", "city"),
                    "country",
                )
            },
        ),
        (
            _("Paramètres des entités publiques"),
            {
                "fields": (
                    "service_code_required",
                    "commitment_required",
                    "commitment_or_service",
                    "payment_status_managed",
                    ("is_moa", "is_moa_only"),
                    "court_fee_provider_category",
                )
            },
        ),
        (
            _("Données INSEE"),
            {
                "fields": (
                    "legal_category",
                    "company_category",
                    "non_diffusible",
                    "insee_updated_at",
                )
            },
        ),
        (_("Dates"), {"fields": ("created_at", "updated_at")}),
    )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if not (change and "principal_manager" in form.changed_data):
            return super().save_model(request, obj, form, change)
        # The admin view runs in a transaction: locking the row serialises this
        # assignment with a transfer made in the portal at the same moment.
        before_id = (
            Structure.objects.select_for_update()
            .filter(pk=obj.pk)
            .values_list("principal_manager_id", flat=True)
            .get()
        )
        super().save_model(request, obj, form, change)
        if before_id != obj.principal_manager_id:
            before = get_user_model().objects.filter(pk=before_id).first()
            audit.record(
                actor=request.user,
                obj=obj,
                action=AuditAction.PRINCIPAL_MANAGER_ASSIGN,
                changes={
                    "before": before.email if before else None,
                    "after": obj.principal_manager.email if obj.principal_manager else None,
                },
            )


class ServiceAdminForm(forms.ModelForm):
    # No Meta: the admin builds the form for its model from its fields.
    def clean_code(self):
        code = self.cleaned_data["code"]
        if code == RESERVED_SERVICE_CODE:
            raise forms.ValidationError(
                _("Le code %(code)s est réservé."), params={"code": RESERVED_SERVICE_CODE}
            )
        return code


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceAdminForm
    list_display = (
        "code",
        "name",
        "structure",
        "is_active",
        "commitment_required",
        "valid_from",
        "valid_until",
    )
    list_filter = ("is_active", "commitment_required", "structure__kind")
    search_fields = ("code", "name", "structure__identifier", "structure__company_name")
    ordering = ("structure__company_name", "code")
    list_select_related = ("structure",)
    autocomplete_fields = ("structure",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    """For reading: bank details are declared, checked and deactivated in the portal,
    where each change is validated and audited; they are never deleted."""

    list_display = ("name", "structure", "kind", "masked_iban", "bic", "is_factor", "is_active", "created_at")
    list_filter = ("is_active", "kind", "is_factor", "country")
    search_fields = ("name", "iban", "bic", "factor_name", "structure__identifier", "structure__company_name")
    list_select_related = ("structure",)
    ordering = ("structure__company_name", "-is_active", "name")
    fields = (
        "structure",
        "name",
        ("kind", "country"),
        "masked_iban",
        "bic",
        ("bank_code", "branch_code", "account_number", "rib_key"),
        ("is_factor", "factor_name", "factor_identifier"),
        ("proof_name", "proof_stored_as"),
        "is_active",
        ("created_by", "created_at"),
        ("updated_at", "deactivated_at"),
    )
    readonly_fields = tuple(name for row in fields for name in (row if isinstance(row, tuple) else (row,)))

    @admin.display(description=_("IBAN"))
    def masked_iban(self, obj):
        return obj.masked_iban

    @admin.display(description=_("fichier stocké"))
    def proof_stored_as(self, obj):
        # The name only: stored files are not served by a public URL.
        return obj.proof.name

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    """For reading, and deleting (audited, stored file removed): attachments are
    uploaded in the portal, where their content is checked."""

    list_display = ("original_name", "structure", "content_type", "size", "uploaded_by", "created_at")
    list_filter = ("content_type", "created_at")
    search_fields = (
        "original_name",
        "structure__identifier",
        "structure__company_name",
        "uploaded_by__email",
    )
    list_select_related = ("structure", "uploaded_by")
    ordering = ("-created_at",)
    fields = ("structure", "original_name", "content_type", "size", "stored_as", "uploaded_by", "created_at")
    readonly_fields = fields

    @admin.display(description=_("fichier stocké"))
    def stored_as(self, obj):
        return obj.file.name

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        attachment_delete(actor=request.user, attachment=obj)

    def delete_queryset(self, request, queryset):
        for attachment in queryset.select_related("structure"):
            attachment_delete(actor=request.user, attachment=attachment)


def _contact(user):
    if user is None:
        return "—"
    name = user.get_full_name()
    return f"{name} <{user.email}>" if name else user.email


class ClaimDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Décision"),
        choices=[
            ("accepter", _("Accepter : le demandeur devient gestionnaire principal")),
            ("rejeter", _("Rejeter")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez d’accepter ou de rejeter la revendication.")},
    )
    comment = forms.CharField(
        label=_("Commentaire envoyé au demandeur (facultatif)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


@admin.register(StructureClaim)
class StructureClaimAdmin(admin.ModelAdmin):
    """Claims on structures said to be usurped: read here with both parties, decided
    once with the form under the claim (structures.services.claims), never edited."""

    change_form_template = "structures/admin/claim_change_form.html"
    list_display = ("created_at", "structure", "claimant_contact", "manager_contact", "status")
    list_filter = ("status", "created_at")
    search_fields = ("structure__identifier", "structure__company_name", "claimant__email")
    list_select_related = ("structure__principal_manager", "claimant")
    ordering = ("-created_at", "-id")
    fields = (
        "structure",
        "status",
        "created_at",
        "claimant_contact",
        "manager_contact",
        "explanation",
        "proof_download",
        ("decided_by", "decided_at"),
        "manager_at_decision",
        "decision_comment",
    )
    readonly_fields = (
        "structure",
        "status",
        "created_at",
        "claimant_contact",
        "manager_contact",
        "explanation",
        "proof_download",
        "decided_by",
        "decided_at",
        "manager_at_decision",
        "decision_comment",
    )

    @admin.display(description=_("demandeur"))
    def claimant_contact(self, obj):
        return _contact(obj.claimant)

    @admin.display(description=_("gestionnaire principal actuel"))
    def manager_contact(self, obj):
        return _contact(obj.structure.principal_manager)

    @admin.display(description=_("justificatif"))
    def proof_download(self, obj):
        if not obj.proof:
            return "—"
        url = reverse("admin:structures_structureclaim_proof", args=[obj.pk])
        return format_html('<a href="{}">{} (PDF)</a>', url, obj.proof_name)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Read-only: a claim changes only by its decision.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request):
        return request.user.has_perm("structures.change_structureclaim")

    def get_urls(self):
        return [
            path(
                "<int:object_id>/decider/",
                self.admin_site.admin_view(self.decide_view),
                name="structures_structureclaim_decide",
            ),
            path(
                "<int:object_id>/justificatif/",
                self.admin_site.admin_view(self.proof_view),
                name="structures_structureclaim_proof",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "decision_form": ClaimDecisionForm(),
            "can_decide": self.has_decide_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def _change_url(object_id):
        return reverse("admin:structures_structureclaim_change", args=[object_id])

    def decide_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_decide_permission(request):
            raise PermissionDenied
        claim = get_object_or_404(StructureClaim, pk=object_id)
        form = ClaimDecisionForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    self.message_user(request, error, messages.ERROR)
            return redirect(self._change_url(claim.pk))
        accept = form.cleaned_data["decision"] == "accepter"
        try:
            claims.structure_claim_decide(
                claim_id=claim.pk, operator=request.user, accept=accept, comment=form.cleaned_data["comment"]
            )
        except claims.ClaimRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(
                request,
                _(
                    "Revendication acceptée : le demandeur est gestionnaire principal. "
                    "Les deux parties sont prévenues."
                )
                if accept
                else _("Revendication rejetée. Les deux parties sont prévenues."),
                messages.SUCCESS,
            )
        return redirect(self._change_url(claim.pk))

    def proof_view(self, request, object_id):
        claim = get_object_or_404(StructureClaim, pk=object_id)
        if not self.has_view_permission(request, claim):
            raise PermissionDenied
        if not claim.proof:
            raise Http404
        return download_response(claim.proof, filename=claim.proof_name, content_type="application/pdf")
