"""Back-office of Support for operators: the queues, the categories and sub-categories
(edited here), and the tickets, their activity and ratings, read only: tickets move
through the portal and the agents' back-office, never by hand here. Ratings can be
read per queue and per agent (filters, with the averages of what is filtered)."""

from django.contrib import admin
from django.db.models import Avg, Count, Q
from django.utils.translation import gettext_lazy as _

from support.models import Category, Queue, Rating, SubCategory, Ticket, TicketEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is not edited: no add, no change, no delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "recipient", "order", "open_tickets")
    ordering = ("order", "name")

    def get_queryset(self, request):
        open_statuses = [status for status in Ticket.Status if status not in ("BROUILLON", "CLOTURE")]
        return (
            super()
            .get_queryset(request)
            .annotate(open_count=Count("tickets", filter=Q(tickets__status__in=open_statuses)))
        )

    @admin.display(description=_("tickets ouverts"), ordering="open_count")
    def open_tickets(self, obj):
        return obj.open_count

    def has_delete_permission(self, request, obj=None):
        # Routing depends on the two codes ("portail", "metier").
        return False


class SubCategoryInline(admin.TabularInline):
    model = SubCategory
    fields = ("name", "object_type", "order", "is_active", "routed_to")
    readonly_fields = ("routed_to",)
    extra = 1

    @admin.display(description=_("file"))
    def routed_to(self, obj):
        if obj is None or not obj.name:
            return "—"
        return _("Support métier") if obj.queue_code == "metier" else _("Support portail")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "order", "is_active", "subcategory_count")
    list_filter = ("is_active",)
    search_fields = ("name", "subcategories__name")
    ordering = ("order", "name")
    inlines = [SubCategoryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(subcategory_total=Count("subcategories", distinct=True))

    @admin.display(description=_("sous-catégories"), ordering="subcategory_total")
    def subcategory_count(self, obj):
        return obj.subcategory_total

    def has_delete_permission(self, request, obj=None):
        # A category used by tickets is deactivated, not deleted (PROTECT says so too).
        if obj is not None and obj.tickets.exists():
            return False
        return super().has_delete_permission(request, obj)


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    fields = ("created_at", "author", "kind", "from_status", "to_status", "is_internal", "body")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = (
        "display_number",
        "title",
        "status",
        "queue",
        "category",
        "subcategory",
        "requester_label",
        "assigned_to",
        "submitted_at",
        "last_activity_at",
    )
    list_filter = (
        "status",
        "queue",
        "category",
        ("assigned_to", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("number", "title", "contact_email", "requester__email", "structure__identifier")
    list_select_related = ("queue", "category", "subcategory__category", "requester", "assigned_to")
    date_hierarchy = "created_at"
    ordering = ("-last_activity_at", "-id")
    fields = (
        "number",
        "status",
        "title",
        "summary",
        "description",
        "category",
        "subcategory",
        "object_type",
        "object_number",
        "queue",
        "assigned_to",
        "requester",
        "structure",
        "contact_email",
        "phone",
        "created_at",
        "submitted_at",
        "resolved_at",
        "closed_at",
        "last_activity_at",
    )
    readonly_fields = fields
    inlines = [TicketEventInline]

    @admin.display(description=_("numéro"), ordering="number")
    def display_number(self, obj):
        return obj.number or _("Brouillon")

    @admin.display(description=_("demandeur"), ordering="requester__email")
    def requester_label(self, obj):
        return obj.requester or obj.contact_email


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "ticket", "kind", "author", "from_status", "to_status", "is_internal")
    list_filter = ("kind", "is_internal", "ticket__queue")
    search_fields = ("ticket__number", "body")
    list_select_related = ("ticket", "author")
    ordering = ("-created_at", "-id")


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    """Satisfaction: filter by queue or agent; the changelist shows the average and the
    count per queue and per agent of what is filtered."""

    change_list_template = "support/tickets/admin_rating_change_list.html"
    list_display = ("ticket", "score", "queue", "agent", "created_at", "comment")
    list_filter = (
        ("ticket__queue", admin.RelatedOnlyFieldListFilter),
        ("ticket__assigned_to", admin.RelatedOnlyFieldListFilter),
        "score",
    )
    search_fields = ("ticket__number", "comment")
    list_select_related = ("ticket", "ticket__queue", "ticket__assigned_to")
    ordering = ("-created_at", "-id")

    @admin.display(description=_("file"), ordering="ticket__queue__name")
    def queue(self, obj):
        return obj.ticket.queue

    @admin.display(description=_("agent"), ordering="ticket__assigned_to__last_name")
    def agent(self, obj):
        return obj.ticket.assigned_to or "—"

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            ratings = changelist.queryset.order_by()
            response.context_data["by_queue"] = list(
                ratings.values("ticket__queue__name")
                .annotate(average=Avg("score"), count=Count("id"))
                .order_by("ticket__queue__name")
            )
            response.context_data["by_agent"] = [
                {
                    "name": " ".join(
                        part
                        for part in (
                            row["ticket__assigned_to__first_name"],
                            row["ticket__assigned_to__last_name"],
                        )
                        if part
                    )
                    or row["ticket__assigned_to__email"]
                    or _("Aucun agent affecté"),
                    "average": row["average"],
                    "count": row["count"],
                }
                for row in ratings.values(
                    "ticket__assigned_to_id",
                    "ticket__assigned_to__first_name",
                    "ticket__assigned_to__last_name",
                    "ticket__assigned_to__email",
                )
                .annotate(average=Avg("score"), count=Count("id"))
                .order_by(
                    "ticket__assigned_to__last_name",
                    "ticket__assigned_to__first_name",
                    "ticket__assigned_to_id",
                )
            ]
        return response
