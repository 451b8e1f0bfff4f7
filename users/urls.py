from django.urls import path

from chorus import access
from users import views, views_invitations, views_me, views_two_factor

app_name = "users"

urlpatterns = [
    path("inscription/", views.signup, name="signup"),
    path("inscription/verifiez-votre-messagerie/", views.signup_done, name="signup_done"),
    path("activation/nouveau-lien/", views.activation_resend, name="activation_resend"),
    path(
        "activation/nouveau-lien/envoye/",
        views.activation_resend_done,
        name="activation_resend_done",
    ),
    path("activation/<uidb64>/<token>/", views.activate, name="activate"),
    path("connexion/", access.public(views.LoginView.as_view()), name="login"),
    path("connexion/deblocage/", views.unlock_request, name="unlock_request"),
    path("connexion/deblocage/code/", views.unlock_with_code, name="unlock_with_code"),
    path("connexion/deblocage/<str:token>/", views.unlock, name="unlock"),
    # Public: a visitor whose session already ended may still press "Se déconnecter".
    path("deconnexion/", access.public(views.LogoutView.as_view()), name="logout"),
    path(
        "mot-de-passe-oublie/",
        access.public(views.PasswordResetView.as_view()),
        name="password_reset",
    ),
    path(
        "mot-de-passe-oublie/envoye/",
        access.public(views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe-oublie/<uidb64>/<token>/",
        access.public(views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe-oublie/termine/",
        access.public(views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
    path("mon-compte/", views.account, name="account"),
    path(
        "mon-compte/mot-de-passe/",
        access.authenticated(views.PasswordChangeView.as_view()),
        name="password_change",
    ),
    path(
        "mon-compte/mot-de-passe/modifie/",
        access.authenticated(views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    # The user menu's own pages.
    path("mes-rattachements/", views_me.my_memberships, name="my_memberships"),
    path("mes-rattachements/quitter/", views_invitations.membership_leave, name="membership_leave"),
    path("invitations/repondre/", views_invitations.invitation_answer, name="invitation_answer"),
    path("adresse-de-connexion/", views_me.change_email, name="change_email"),
    path(
        "adresse-de-connexion/confirmer/<str:token>/",
        views_me.change_email_confirm,
        name="change_email_confirm",
    ),
    path("desactiver/", views_me.deactivate, name="deactivate"),
    # Sécurité du compte (two-factor authentication) and the login's second step.
    path("securite/", views_two_factor.security, name="security"),
    path("securite/activer/", views_two_factor.enrol, name="two_factor_enrol"),
    path("securite/codes-de-secours/", views_two_factor.recovery_codes, name="two_factor_recovery_codes"),
    path(
        "securite/codes-de-secours/telecharger/",
        views_two_factor.recovery_codes_download,
        name="two_factor_recovery_codes_download",
    ),
    path(
        "securite/codes-de-secours/regenerer/",
        views_two_factor.recovery_codes_regenerate,
        name="two_factor_recovery_codes_regenerate",
    ),
    path("securite/desactiver/", views_two_factor.disable, name="two_factor_disable"),
    path("connexion/code/", views_two_factor.verify, name="two_factor_verify"),
    path("connexion/code/courriel/", views_two_factor.email_code, name="two_factor_email_code"),
    path("reactiver/<str:token>/", views_me.reactivate, name="reactivate"),
]
