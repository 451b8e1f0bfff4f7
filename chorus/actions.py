"""The actions the audit trail records, each with its French label: one member per action
recorded anywhere, read by a structure's history and by the back-office list of the
trail. The values are the codes as recorded (the hash chain covers them): they never
change; only their reading is translated."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    # Structures
    STRUCTURE_CREATE = "structure_create", _("Création de la structure")
    STRUCTURE_UPDATE = "structure_update", _("Modification de la structure")
    STRUCTURE_ACTIVATE = "structure_activate", _("Activation de la structure")
    STRUCTURE_DEACTIVATE = "structure_deactivate", _("Désactivation de la structure")
    STRUCTURE_INSEE_UPDATE = "structure_insee_update", _("Mise à jour depuis la base INSEE")
    STRUCTURE_DUPLICATE = "structure_duplicate", _("Duplication de la structure")
    STRUCTURE_CLAIM_FILE = "structure_claim_file", _("Revendication de la structure")
    STRUCTURE_CLAIM_ACCEPT = "structure_claim_accept", _("Revendication de la structure acceptée")
    STRUCTURE_CLAIM_REJECT = "structure_claim_reject", _("Revendication de la structure rejetée")
    PRINCIPAL_MANAGER_ASSIGN = "principal_manager_assign", _("Désignation du gestionnaire principal")
    PRINCIPAL_MANAGER_TRANSFER = "principal_manager_transfer", _("Transfert du gestionnaire principal")
    SERVICE_CREATE = "service_create", _("Création d’un service")
    SERVICE_UPDATE = "service_update", _("Modification d’un service")
    SERVICE_ACTIVATE = "service_activate", _("Réactivation d’un service")
    SERVICE_DEACTIVATE = "service_deactivate", _("Désactivation d’un service")
    SERVICE_DELETE = "service_delete", _("Suppression d’un service")
    BANK_ACCOUNT_CREATE = "bank_account_create", _("Création d’une coordonnée bancaire")
    BANK_ACCOUNT_DEACTIVATE = "bank_account_deactivate", _("Désactivation d’une coordonnée bancaire")
    BANK_ACCOUNT_REACTIVATE = "bank_account_reactivate", _("Réactivation d’une coordonnée bancaire")
    ATTACHMENT_CREATE = "attachment_create", _("Ajout d’une pièce jointe")
    ATTACHMENT_DELETE = "attachment_delete", _("Suppression d’une pièce jointe")
    # Memberships, invitations, habilitations
    MEMBERSHIP_ATTACH = "membership_attach", _("Rattachement")
    MEMBERSHIP_DETACH = "membership_detach", _("Détachement")
    MEMBERSHIP_LEAVE = "membership_leave", _("Départ d’un utilisateur")
    MEMBERSHIP_STATUS = "membership_status", _("Changement de statut d’un rattachement")
    INVITATION_SEND = "invitation_send", _("Invitation envoyée")
    INVITATION_ACCEPT = "invitation_accept", _("Invitation acceptée")
    INVITATION_DECLINE = "invitation_decline", _("Invitation refusée")
    HABILITATIONS_CHANGE = "habilitations_change", _("Modification des habilitations")
    # Recorded by earlier versions of the detachment: still in the trail.
    HABILITATIONS_REMOVE_ON_DETACH = (
        "habilitations_remove_on_detach",
        _("Habilitations retirées au détachement"),
    )
    # Approvals
    APPROVAL_REQUEST = "approval_request", _("Demande d’approbation")
    APPROVAL_APPROVE = "approval_approve", _("Demande approuvée")
    APPROVAL_REFUSE = "approval_refuse", _("Demande refusée")
    APPROVAL_GRANTED_AT_ONCE = "approval_granted_at_once", _("Rattachement accordé d’office")
    # Accounts
    USER_SIGNUP = "user_signup", _("Création d’un compte")
    USER_ACTIVATE = "user_activate", _("Activation d’un compte")
    USER_UPDATE = "user_update", _("Modification d’un compte")
    USER_DEACTIVATE = "user_deactivate", _("Désactivation d’un compte")
    USER_REACTIVATE = "user_reactivate", _("Réactivation d’un compte")
    USER_UNLOCK = "user_unlock", _("Déblocage d’un compte")
    USER_EMAIL_CHANGE_REQUEST = "user_email_change_request", _("Demande de changement d’adresse électronique")
    USER_EMAIL_CHANGE = "user_email_change", _("Changement d’adresse électronique")
    PASSWORD_CHANGE = "password_change", _("Changement de mot de passe")
    PASSWORD_RESET = "password_reset", _("Réinitialisation du mot de passe")
    TWO_FACTOR_ENABLE = "two_factor_enable", _("Activation de la double authentification")
    TWO_FACTOR_DISABLE = "two_factor_disable", _("Désactivation de la double authentification")
    TWO_FACTOR_RESET = "two_factor_reset", _("Réinitialisation de la double authentification")
    TWO_FACTOR_RECOVERY_CODES_REGENERATE = (
        "two_factor_recovery_codes_regenerate",
        _("Nouveaux codes de secours"),
    )
    TWO_FACTOR_RECOVERY_CODE_USED = "two_factor_recovery_code_used", _("Connexion avec un code de secours")
    # Support
    TICKET_CREATE = "ticket_create", _("Création d’un brouillon de ticket")
    TICKET_UPDATE = "ticket_update", _("Modification d’un ticket")
    TICKET_SUBMIT = "ticket_submit", _("Envoi d’un ticket")
    TICKET_DELETE = "ticket_delete", _("Suppression d’un brouillon de ticket")
    TICKET_ANSWER = "ticket_answer", _("Réponse du demandeur")
    TICKET_ACCEPT = "ticket_accept", _("Solution acceptée")
    TICKET_REFUSE = "ticket_refuse", _("Solution refusée")
    TICKET_CLOSE = "ticket_close", _("Clôture d’un ticket par le demandeur")
    TICKET_RATE = "ticket_rate", _("Évaluation d’un ticket")
    TICKET_AUTOCLOSE = "ticket_autoclose", _("Clôture automatique d’un ticket")
    TICKET_ASSIGN = "ticket_assign", _("Prise en charge d’un ticket")
    TICKET_REPLY = "ticket_reply", _("Réponse du support")
    TICKET_NOTE = "ticket_note", _("Note interne sur un ticket")
    TICKET_REQUEST_INFORMATION = "ticket_request_information", _("Demande d’informations complémentaires")
    TICKET_PROPOSE_SOLUTION = "ticket_propose_solution", _("Proposition de solution")
    TICKET_TRANSFER = "ticket_transfer", _("Transfert d’un ticket")
    CHAT_START = "chat_start", _("Début d’un échange instantané")
    CHAT_TAKE = "chat_take", _("Prise en charge d’un échange instantané")
    CHAT_END = "chat_end", _("Fin d’un échange instantané")
    CHAT_TO_TICKET = "chat_to_ticket", _("Échange instantané transformé en ticket")
    # Back-office
    ADMIN_DELETE = "admin_delete", _("Suppression depuis l’administration")
    SECURITY_POLICY_UPDATE = "security_policy_update", _("Modification de la politique de sécurité")


def action_label(action: str) -> str:
    """The French label of a recorded action; a code recorded once but no longer known
    is shown as recorded rather than hidden."""
    try:
        return str(AuditAction(action).label)
    except ValueError:
        return action
