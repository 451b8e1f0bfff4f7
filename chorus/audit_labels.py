"""French words for the audit trail: one label per action code recorded anywhere, read
by a structure's history and by the back-office list of the trail. The codes stay as
recorded (they are covered by the hash chain); only their reading is translated."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    # Structures
    "structure_create": _("Création de la structure"),
    "structure_update": _("Modification de la structure"),
    "structure_activate": _("Activation de la structure"),
    "structure_deactivate": _("Désactivation de la structure"),
    "structure_insee_update": _("Mise à jour depuis la base INSEE"),
    "structure_duplicate": _("Duplication de la structure"),
    "structure_claim_file": _("Revendication de la structure"),
    "structure_claim_accept": _("Revendication de la structure acceptée"),
    "structure_claim_reject": _("Revendication de la structure rejetée"),
    "principal_manager_assign": _("Désignation du gestionnaire principal"),
    "principal_manager_transfer": _("Transfert du gestionnaire principal"),
    "service_create": _("Création d’un service"),
    "service_update": _("Modification d’un service"),
    "service_activate": _("Réactivation d’un service"),
    "service_deactivate": _("Désactivation d’un service"),
    "service_delete": _("Suppression d’un service"),
    "bank_account_create": _("Création d’une coordonnée bancaire"),
    "bank_account_deactivate": _("Désactivation d’une coordonnée bancaire"),
    "bank_account_reactivate": _("Réactivation d’une coordonnée bancaire"),
    "attachment_create": _("Ajout d’une pièce jointe"),
    "attachment_delete": _("Suppression d’une pièce jointe"),
    # Memberships, invitations, habilitations
    "membership_attach": _("Rattachement"),
    "membership_detach": _("Détachement"),
    "membership_leave": _("Départ d’un utilisateur"),
    "membership_status": _("Changement de statut d’un rattachement"),
    "invitation_send": _("Invitation envoyée"),
    "invitation_accept": _("Invitation acceptée"),
    "invitation_decline": _("Invitation refusée"),
    "habilitations_change": _("Modification des habilitations"),
    "habilitations_remove_on_detach": _("Habilitations retirées au détachement"),
    # Approvals
    "approval_request": _("Demande d’approbation"),
    "approval_approve": _("Demande approuvée"),
    "approval_refuse": _("Demande refusée"),
    "approval_granted_at_once": _("Rattachement accordé d’office"),
    # Accounts
    "user_signup": _("Création d’un compte"),
    "user_activate": _("Activation d’un compte"),
    "user_update": _("Modification d’un compte"),
    "user_deactivate": _("Désactivation d’un compte"),
    "user_reactivate": _("Réactivation d’un compte"),
    "user_unlock": _("Déblocage d’un compte"),
    "user_email_change_request": _("Demande de changement d’adresse électronique"),
    "user_email_change": _("Changement d’adresse électronique"),
    "password_change": _("Changement de mot de passe"),
    "password_reset": _("Réinitialisation du mot de passe"),
    "two_factor_enable": _("Activation de la double authentification"),
    "two_factor_disable": _("Désactivation de la double authentification"),
    "two_factor_reset": _("Réinitialisation de la double authentification"),
    "two_factor_recovery_codes_regenerate": _("Nouveaux codes de secours"),
    "two_factor_recovery_code_used": _("Connexion avec un code de secours"),
    # Support
    "ticket_create": _("Création d’un brouillon de ticket"),
    "ticket_update": _("Modification d’un ticket"),
    "ticket_submit": _("Envoi d’un ticket"),
    "ticket_delete": _("Suppression d’un brouillon de ticket"),
    "ticket_answer": _("Réponse du demandeur"),
    "ticket_accept": _("Solution acceptée"),
    "ticket_refuse": _("Solution refusée"),
    "ticket_close": _("Clôture d’un ticket par le demandeur"),
    "ticket_rate": _("Évaluation d’un ticket"),
    "ticket_autoclose": _("Clôture automatique d’un ticket"),
    "ticket_assign": _("Prise en charge d’un ticket"),
    "ticket_reply": _("Réponse du support"),
    "ticket_note": _("Note interne sur un ticket"),
    "ticket_request_information": _("Demande d’informations complémentaires"),
    "ticket_propose_solution": _("Proposition de solution"),
    "ticket_transfer": _("Transfert d’un ticket"),
    "chat_start": _("Début d’un échange instantané"),
    "chat_take": _("Prise en charge d’un échange instantané"),
    "chat_end": _("Fin d’un échange instantané"),
    "chat_to_ticket": _("Échange instantané transformé en ticket"),
    # Back-office
    "admin_delete": _("Suppression depuis l’administration"),
    "security_policy_update": _("Modification de la politique de sécurité"),
}


def action_label(action: str) -> str:
    """The French label of an action code; a code without one is shown as recorded
    rather than hidden."""
    return str(ACTION_LABELS.get(action, action))
