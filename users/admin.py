"""Back-office of accounts and attachments (operators only)."""

from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from chorus.models import AuditEvent
from core.errors import Refused
from users.models import Invitation, Membership, User
from users.services import accounts, members, two_factor

DEACTIVATE_LABEL = _("Désactiver les comptes sélectionnés (leur historique est conservé)")


def accounts_history(user_ids) -> dict[int, set[str]]:
    """What each of these accounts left behind, by kind: audit records by or about them,
    and the rows of every table that points to them (attachments, habilitations,
    tickets, two-factor devices…). One query per kind, whatever the number of accounts."""
    user_ids = list(user_ids)
    found = defaultdict(set)
    audit_label = str(AuditEvent._meta.verbose_name_plural)
    by_actor = AuditEvent.objects.filter(actor_id_value__in=user_ids).values_list("actor_id_value", flat=True)
    about = AuditEvent.objects.filter(
        object_type=User._meta.label, object_id__in=[str(pk) for pk in user_ids]
    ).values_list("object_id", flat=True)
    for pk in [*by_actor.distinct(), *about.distinct()]:
        found[int(pk)].add(audit_label)
    for relation in User._meta.get_fields(include_hidden=True):
        model = relation.related_model
        if not (relation.one_to_many or relation.one_to_one) or relation.concrete:
            continue  # only the tables that point to the account
        if model is AuditEvent or model._meta.auto_created:
            continue  # the audit trail is read above; group and permission links are not history
        column = relation.field.attname
        for pk in (
            model._base_manager.filter(**{f"{column}__in": user_ids})
            .values_list(column, flat=True)
            .distinct()
        ):
            found[pk].add(str(model._meta.verbose_name_plural))
    return found


def _kinds(found: set[str]) -> str:
    return ", ".join(sorted(found))


def delete_selected_without_history(modeladmin, request, queryset):
    """Django's "Supprimer les objets sélectionnés", refused as a whole when one of the
    accounts has a history."""
    history = accounts_history(queryset.values_list("pk", flat=True))
    if history:
        kept = queryset.filter(pk__in=history).order_by("email")
        modeladmin.message_user(
            request,
            gettext(
                "Aucun compte n’a été supprimé : ces comptes ont un historique et ne peuvent pas "
                "être supprimés : %(accounts)s. Désactivez-les plutôt avec l’action « %(action)s »."
            )
            % {
                "accounts": "; ".join(f"{user.email} ({_kinds(history[user.pk])})" for user in kept),
                "action": DEACTIVATE_LABEL,
            },
            messages.ERROR,
        )
        return None
    return delete_selected(modeladmin, request, queryset)


delete_selected_without_history.allowed_permissions = delete_selected.allowed_permissions
delete_selected_without_history.short_description = delete_selected.short_description


class EmailLoginMixin:
    """The login email identifies the account whatever its case: "Jean@Exemple.fr" and
    "jean@exemple.fr" are one account, so the form refuses the second one."""

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        others = User.objects.filter(email__iexact=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("Un compte utilise déjà cette adresse de connexion."))
        return email


# The admin builds its forms' fields from the fieldsets; Meta only names the model.
class UserCreationAdminForm(EmailLoginMixin, AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeAdminForm(EmailLoginMixin, UserChangeForm):
    class Meta:
        model = User
        fields = ("email",)


class MembershipInline(admin.TabularInline):
    """A user's attachments, for reading: attaching goes through the membership admin
    (or the portal), which applies the principal manager rule."""

    model = Membership
    fk_name = "user"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("structure", "service", "status", "started_at", "ended_at")
    readonly_fields = fields
    ordering = ("structure__company_name", "service__code")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("structure", "service")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Identité et contact"), {"fields": ("first_name", "last_name", "phone", "contact_email")}),
        (
            _("Droits"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("date_joined", "activated_at", "last_login")}),
        (_("Sécurité"), {"fields": ("two_factor_enabled",)}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("date_joined", "activated_at", "last_login", "two_factor_enabled")
    list_display = ("email", "last_name", "first_name", "is_active", "is_staff", "is_superuser", "last_login")
    actions = ("deactivate", "reset_two_factor")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("email", "first_name", "last_name", "contact_email")
    ordering = ("last_name", "first_name", "email")
    inlines = (MembershipInline,)

    def get_inlines(self, request, obj):
        # No inline on the add page: a new account has no attachment yet.
        return self.inlines if obj is not None else ()

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            _function, name, description = actions["delete_selected"]
            actions["delete_selected"] = (delete_selected_without_history, name, description)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        # An account with a history is deactivated, not deleted: its history stays
        # readable with its name, and nothing it points to is lost in a cascade.
        user = self.get_object(request, unquote(object_id))
        history = accounts_history([user.pk]).get(user.pk) if user is not None else None
        if history:
            self.message_user(
                request,
                gettext(
                    "Le compte %(email)s a un historique (%(kinds)s) : il ne peut pas être supprimé. "
                    "Désactivez-le plutôt : cochez-le ci-dessous et choisissez l’action « %(action)s », "
                    "ou décochez « Actif » sur sa fiche."
                )
                % {"email": user.email, "kinds": _kinds(history), "action": DEACTIVATE_LABEL},
                messages.ERROR,
            )
            # The list, showing this account only, where the deactivation action is.
            return redirect(f"{reverse('admin:users_user_changelist')}?id__exact={user.pk}")
        return super().delete_view(request, object_id, extra_context)

    @admin.action(description=DEACTIVATE_LABEL, permissions=["change"])
    def deactivate(self, request, queryset):
        try:
            users = accounts.users_deactivate(
                user_ids=list(queryset.values_list("pk", flat=True)), actor=request.user
            )
        except Refused as refused:
            self.message_user(request, refused.message, messages.ERROR)
            return
        message = ngettext(
            "%(count)d compte désactivé : il ne peut plus se connecter, son historique est conservé.",
            "%(count)d comptes désactivés : ils ne peuvent plus se connecter, leur historique est conservé.",
            len(users),
        )
        self.message_user(request, message % {"count": len(users)})

    @admin.action(
        description=_("Réinitialiser la double authentification (téléphone et codes de secours perdus)")
    )
    def reset_two_factor(self, request, queryset):
        count = 0
        for user in queryset.filter(two_factor_enabled=True):
            two_factor.two_factor_reset(user=user, actor=request.user)
            count += 1
        message = ngettext(
            "Double authentification réinitialisée pour %(count)d compte.",
            "Double authentification réinitialisée pour %(count)d comptes.",
            count,
        )
        self.message_user(request, message % {"count": count})


class MembershipAdminForm(forms.ModelForm):
    # No Meta: the admin builds the form for its model from its fields.
    def clean(self):
        cleaned_data = super().clean()
        structure, service = cleaned_data.get("structure"), cleaned_data.get("service")
        status = cleaned_data.get("status")
        if structure and service and service.structure_id != structure.pk:
            self.add_error("service", _("Ce service n’appartient pas à la structure choisie."))
        instance = self.instance
        leaving = status is not None and status != Membership.Status.VALIDEE
        if (
            instance.pk
            and leaving
            and instance.status == Membership.Status.VALIDEE
            and instance.structure.principal_manager_id == instance.user_id
            and not instance.structure.memberships.filter(
                user_id=instance.user_id, status=Membership.Status.VALIDEE
            )
            .exclude(pk=instance.pk)
            .exists()
        ):
            # Invariant principal-manager-hands-over-first (docs/architecture.md).
            self.add_error(
                "status",
                _(
                    "Cet utilisateur est le gestionnaire principal de la structure : "
                    "attribuez d’abord ce rôle à un autre utilisateur rattaché."
                ),
            )
        reviving = (
            instance.pk
            and status in Membership.LIVE_STATUSES
            and instance.status not in Membership.LIVE_STATUSES
        )
        if reviving and self._other_live_memberships(instance).exists():
            # The database allows one live attachment per user and structure (or service).
            self.add_error("status", _("Cet utilisateur a déjà un rattachement en cours ici."))
        return cleaned_data

    @staticmethod
    def _other_live_memberships(instance):
        target = (
            {"service_id": instance.service_id}
            if instance.service_id
            else {
                "structure_id": instance.structure_id,
                "service__isnull": True,
            }
        )
        return Membership.objects.filter(
            user_id=instance.user_id, status__in=Membership.LIVE_STATUSES, **target
        ).exclude(pk=instance.pk)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ("user", "structure", "service", "status", "started_at", "ended_at")
    list_filter = ("status", "structure__kind", "structure__status")
    search_fields = (
        "user__email",
        "user__last_name",
        "structure__identifier",
        "structure__company_name",
        "service__code",
    )
    ordering = ("structure__company_name", "service__code", "user__email")
    list_select_related = ("user", "structure", "service")
    autocomplete_fields = ("user", "structure", "service")
    readonly_fields = ("created_at", "updated_at")
    date_hierarchy = "started_at"

    def get_readonly_fields(self, request, obj=None):
        # Once created, an attachment is history: only its status and comment move.
        if obj is not None:
            return ("user", "structure", "service", "started_at", *self.readonly_fields)
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        # Ended attachments are kept with their status as history (Désactivé, Refusé).
        return False

    def save_model(self, request, obj, form, change):
        if not change and obj.status == Membership.Status.VALIDEE:
            # Through the service, so that the first user attached becomes principal
            # manager and the attachment is audited, as in the portal.
            membership = members.membership_attach(
                user=obj.user,
                structure=obj.structure,
                service=obj.service,
                actor=request.user,
                comment=obj.comment,
            )
            for field in obj._meta.concrete_fields:
                setattr(obj, field.attname, getattr(membership, field.attname))
            obj._state.adding = False
            return
        members.membership_save(actor=request.user, membership=obj)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are sent from the portal (Rattacher un utilisateur) and answered by
    the invited person (on activation for a new account, from their home page for an
    existing one): operators read them, they do not write them."""

    list_display = ("email", "structure", "invited_by", "created_at", "accepted_at", "declined_at")
    list_filter = (("accepted_at", admin.EmptyFieldListFilter), ("declined_at", admin.EmptyFieldListFilter))
    search_fields = ("email", "structure__identifier", "structure__company_name", "invited_by__email")
    ordering = ("-created_at", "-id")
    list_select_related = ("structure", "invited_by")
    date_hierarchy = "created_at"
    fields = (
        "email",
        "user",
        "structure",
        "services",
        "invited_by",
        "created_at",
        "accepted_at",
        "declined_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
