"""Operators edit the documentation in the admin: Markdown, with a preview of the saved
page and a live preview of the text being typed (rendered by the same safe subset as
the public page)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseNotAllowed
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from support import markdown
from support.models import DocPage

MAX_PREVIEW_LENGTH = 200_000


@admin.register(DocPage)
class DocPageAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "theme",
        "section",
        "audience",
        "application",
        "order",
        "is_published",
        "updated_at",
    )
    list_filter = ("is_published", "audience", "theme", "section")
    list_editable = ("order", "is_published")
    search_fields = ("title", "slug", "summary", "body")
    list_select_related = ("application",)
    ordering = ("theme", "section", "order", "title")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("application",)
    readonly_fields = ("preview", "updated_at")
    change_form_template = "support/docs/admin_change_form.html"
    fieldsets = (
        (None, {"fields": ("title", "slug", "summary", "body", "preview")}),
        (
            _("Classement"),
            {
                "fields": (
                    "audience",
                    "theme",
                    "section",
                    "order",
                    "application",
                    "is_published",
                    "updated_at",
                )
            },
        ),
    )

    @admin.display(description=_("Aperçu"))
    def preview(self, obj):
        rendered = markdown.render(obj.body) if obj is not None and obj.body else ""
        return format_html('<div class="documentation-apercu" id="apercu-markdown">{}</div>', rendered)

    def get_urls(self):
        return [
            path(
                "apercu/",
                self.admin_site.admin_view(self.preview_view),
                name="support_docpage_preview",
            ),
            *super().get_urls(),
        ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "preview_url": reverse("admin:support_docpage_preview")}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def preview_view(self, request):
        """The Markdown typed in the form, rendered as the public page will show it."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        text = request.POST.get("body", "")[:MAX_PREVIEW_LENGTH]
        return HttpResponse(markdown.render(text), content_type="text/html; charset=utf-8")
