"""The back-office site: Django's admin, except that every deletion made in it is
audited, whichever admin class (the portal's or a library's) the model has."""

from django.contrib import admin

from chorus import audit
from chorus.actions import AuditAction


class AuditedDeletionAdmin:
    """One audit record per object deleted, from its page or with "Supprimer les
    objets sélectionnés": who, and the object's type, id and text as it was."""

    def delete_model(self, request, obj):
        delete = super().delete_model
        audit.record_deletion(
            actor=request.user,
            objects=[obj],
            delete=lambda: delete(request, obj),
            action=AuditAction.ADMIN_DELETE,
        )

    def delete_queryset(self, request, queryset):
        delete = super().delete_queryset
        audit.record_deletion(
            actor=request.user,
            objects=queryset,
            delete=lambda: delete(request, queryset),
            action=AuditAction.ADMIN_DELETE,
        )


class PortalAdminSite(admin.AdminSite):
    """Every admin class registered here is given AuditedDeletionAdmin: a model admin
    cannot forget it, and those of the libraries (two-factor devices, lockouts…) get it
    too."""

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedDeletionAdmin):
            admin_class = type(
                admin_class.__name__,
                (AuditedDeletionAdmin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)
