"""Back-office of the approval requests (operators): read them, and find the stuck ones,
whose structure has no active principal manager, so as to appoint one from the
structure's page. Decisions are made in the portal, never here."""

from django.contrib import admin
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from approvals.models import ApprovalRequest


class WithoutActiveApproverFilter(admin.SimpleListFilter):
    title = _("approbateur")
    parameter_name = "sans_approbateur"

    def lookups(self, request, model_admin):
        return [("1", _("Structures sans approbateur actif"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            # The principal manager left without transferring the role (or their account
            # is deactivated): the requests wait until an operator appoints one.
            return queryset.filter(status=ApprovalRequest.Status.EN_ATTENTE).filter(
                Q(structure__principal_manager__isnull=True)
                | Q(structure__principal_manager__is_active=False)
            )
        return queryset


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(admin.ModelAdmin):
    list_display = (
        "display_number",
        "kind",
        "status",
        "requester",
        "structure",
        "structure_manager",
        "created_at",
        "decided_at",
    )
    list_filter = ("status", "kind", WithoutActiveApproverFilter, "granted_at_once")
    search_fields = (
        "requester__email",
        "requester__last_name",
        "structure__identifier",
        "structure__company_name",
    )
    list_select_related = ("requester", "structure", "structure__principal_manager")
    ordering = ("-created_at", "-id")
    date_hierarchy = "created_at"
    fields = (
        "display_number",
        "kind",
        "requester",
        "structure_link",
        "services",
        "service",
        "profiles_to_add",
        "profiles_to_remove",
        "comment",
        "status",
        "decided_by",
        "decided_at",
        "reason",
        "granted_at_once",
        "notified_at",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("numéro"), ordering="pk")
    def display_number(self, obj):
        return obj.number

    @admin.display(description=_("gestionnaire principal"))
    def structure_manager(self, obj):
        return obj.structure.principal_manager or "—"

    @admin.display(description=_("structure"))
    def structure_link(self, obj):
        # Where an operator appoints a principal manager for a stuck request.
        url = reverse("admin:structures_structure_change", args=[obj.structure_id])
        return format_html('<a href="{}">{}</a>', url, obj.structure)

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        pk = ApprovalRequest.pk_from_number(search_term) if search_term else None
        if pk is not None:
            queryset |= self.model.objects.filter(pk=pk)
        return queryset, may_have_duplicates

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
