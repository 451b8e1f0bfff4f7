from django.apps import AppConfig
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from chorus.interfaces import contributions


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support")

    def ready(self):
        doc_pages = self.get_model("DocPage")

        def help_page_url(applications):
            """The "i" link of a page: its application's first published guide."""
            slug = (
                doc_pages.objects.filter(application__in=applications, is_published=True)
                .order_by("application__order", "order", "pk")
                .values_list("slug", flat=True)
                .first()
            )
            return reverse("support:doc_page", args=[slug]) if slug else ""

        contributions.help_page_url = help_page_url
