from django.urls import include, path

from chorus import access
from users.views import accounts, directory, habilitations, invitations, me, members, two_factor

app_name = "users"

# Under /compte/: the account's own pages, reachable by anyone or any logged-in user.
account_urlpatterns = [
    path("inscription/", accounts.signup, name="signup"),
    path("inscription/verifiez-votre-messagerie/", accounts.signup_done, name="signup_done"),
    path("activation/nouveau-lien/", accounts.activation_resend, name="activation_resend"),
    path(
        "activation/nouveau-lien/envoye/",
        accounts.activation_resend_done,
        name="activation_resend_done",
    ),
    path("activation/<uidb64>/<token>/", accounts.activate, name="activate"),
    path("connexion/", access.public(accounts.LoginView.as_view()), name="login"),
    path("connexion/deblocage/", accounts.unlock_request, name="unlock_request"),
    path("connexion/deblocage/code/", accounts.unlock_with_code, name="unlock_with_code"),
    path("connexion/deblocage/<str:token>/", accounts.unlock, name="unlock"),
    # Public: a visitor whose session already ended may still press "Se déconnecter".
    path("deconnexion/", access.public(accounts.LogoutView.as_view()), name="logout"),
    path(
        "mot-de-passe-oublie/",
        access.public(accounts.PasswordResetView.as_view()),
        name="password_reset",
    ),
    path(
        "mot-de-passe-oublie/envoye/",
        access.public(accounts.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe-oublie/<uidb64>/<token>/",
        access.public(accounts.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe-oublie/termine/",
        access.public(accounts.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
    path("mon-compte/", accounts.account, name="account"),
    path(
        "mon-compte/mot-de-passe/",
        access.authenticated(accounts.PasswordChangeView.as_view()),
        name="password_change",
    ),
    path(
        "mon-compte/mot-de-passe/modifie/",
        access.authenticated(accounts.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    # The user menu's own pages.
    path("mes-rattachements/", me.my_memberships, name="my_memberships"),
    path("mes-rattachements/quitter/", invitations.membership_leave, name="membership_leave"),
    path("invitations/repondre/", invitations.invitation_answer, name="invitation_answer"),
    path("adresse-de-connexion/", me.change_email, name="change_email"),
    path(
        "adresse-de-connexion/confirmer/<str:token>/",
        me.change_email_confirm,
        name="change_email_confirm",
    ),
    path("desactiver/", me.deactivate, name="deactivate"),
    # Sécurité du compte (two-factor authentication) and the login's second step.
    path("securite/", two_factor.security, name="security"),
    path("securite/activer/", two_factor.enrol, name="two_factor_enrol"),
    path("securite/codes-de-secours/", two_factor.recovery_codes, name="two_factor_recovery_codes"),
    path(
        "securite/codes-de-secours/telecharger/",
        two_factor.recovery_codes_download,
        name="two_factor_recovery_codes_download",
    ),
    path(
        "securite/codes-de-secours/regenerer/",
        two_factor.recovery_codes_regenerate,
        name="two_factor_recovery_codes_regenerate",
    ),
    path("securite/desactiver/", two_factor.disable, name="two_factor_disable"),
    path("connexion/code/", two_factor.verify, name="two_factor_verify"),
    path("connexion/code/courriel/", two_factor.email_code, name="two_factor_email_code"),
    path("reactiver/<str:token>/", me.reactivate, name="reactivate"),
]

# Under /organisation/utilisateurs/: Organisation › Utilisateurs, each page guarded by
# its application.
member_urlpatterns = [
    path("", directory.member_list, name="member_list"),
    path("export/", directory.member_export, name="member_export"),
    path("<int:user_id>/", directory.member_detail, name="member_detail"),
    path("rattacher/", members.attach, name="attach"),
    path("rattacher-plusieurs/", members.attach_many, name="attach_many"),
    path("detacher/", members.detach, name="detach"),
    path("habilitations/", habilitations.habilitations, name="habilitations"),
    path("habilitations/copier/", habilitations.habilitations_copy, name="habilitations_copy"),
    path(
        "habilitations/<int:structure_pk>/utilisateurs/<int:user_pk>/",
        habilitations.habilitations_user,
        name="habilitations_user",
    ),
    path(
        "habilitations/<int:structure_pk>/services/<int:service_pk>/utilisateurs/<int:user_pk>/",
        habilitations.habilitations_user,
        name="habilitations_service_user",
    ),
    path("mes-habilitations/", habilitations.my_habilitations, name="my_habilitations"),
    path(
        "mes-habilitations/<int:structure_pk>/",
        habilitations.my_habilitations_manage,
        name="my_habilitations_structure",
    ),
    path(
        "mes-habilitations/<int:structure_pk>/services/<int:service_pk>/",
        habilitations.my_habilitations_manage,
        name="my_habilitations_service",
    ),
]

urlpatterns = [
    path("compte/", include(account_urlpatterns)),
    path("organisation/utilisateurs/", include(member_urlpatterns)),
]
