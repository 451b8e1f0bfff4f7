"""The catalogue's application codes, one name each, with the URL name of the page each
application opens ("" for the applications shown on the generic application page). The
codes are those the catalogue's migrations install; a system check (chorus.checks)
keeps this enum and that catalogue the same."""

from enum import StrEnum


class ApplicationCode(StrEnum):
    """A member is its code: it is compared, stored and looked up as the string."""

    def __new__(cls, code: str, url_name: str = ""):
        member = str.__new__(cls, code)
        member._value_ = code
        member.url_name = url_name
        return member

    # Organisation: its profile governs every application below down to TRANSFERER_GP,
    # and the Utilisateurs ones.
    ORGANISATION = "ORGANISATION"
    CREER_STRUCTURE = "CREER_STRUCTURE", "structures:create"
    GERER_STRUCTURE = "GERER_STRUCTURE", "structures:manage"
    CREER_SERVICE = "CREER_SERVICE", "structures:service_create"
    GERER_SERVICE = "GERER_SERVICE", "structures:service_list"
    CREER_COORDONNEE_BANCAIRE = "CREER_COORDONNEE_BANCAIRE", "structures:bank_create"
    GERER_COORDONNEE_BANCAIRE = "GERER_COORDONNEE_BANCAIRE", "structures:bank_list"
    CREER_PIECE_JOINTE = "CREER_PIECE_JOINTE", "structures:attachment_create"
    GERER_PIECE_JOINTE = "GERER_PIECE_JOINTE", "structures:attachment_list"
    DUPLIQUER_STRUCTURE = "DUPLIQUER_STRUCTURE", "structures:duplicate"
    TRANSFERER_GP = "TRANSFERER_GP", "structures:transfer"
    RATTACHER_UTILISATEUR = "RATTACHER_UTILISATEUR", "users:attach"
    DETACHER_UTILISATEUR = "DETACHER_UTILISATEUR", "users:detach"
    CONSULTER_UTILISATEURS = "CONSULTER_UTILISATEURS", "users:member_list"
    AFFICHER_UTILISATEUR = "AFFICHER_UTILISATEUR", "users:member_list"
    GERER_HABILITATIONS = "GERER_HABILITATIONS", "users:habilitations"
    GERER_MES_HABILITATIONS = "GERER_MES_HABILITATIONS", "users:my_habilitations"
    DEMANDER_RATTACHEMENT = "DEMANDER_RATTACHEMENT", "approvals:request_attachment"
    APPROBATIONS = "APPROBATIONS", "approvals:inbox"
    # Facturation: opened through their own profiles, shown on the application page.
    FACTURE_EMISE = "FACTURE_EMISE"
    FACTURES_TRAVAUX = "FACTURES_TRAVAUX"
    FACTURE_RECUE = "FACTURE_RECUE"
    MEMOIRE_FRAIS_JUSTICE = "MEMOIRE_FRAIS_JUSTICE"
    REMBOURSEMENT_TAXES = "REMBOURSEMENT_TAXES"
    ENGAGEMENT = "ENGAGEMENT"
    # Support
    NOUS_CONTACTER = "NOUS_CONTACTER", "support:contact"
    TICKETS_EMIS = "TICKETS_EMIS", "support:tickets"
    TICKETS_RECUS = "TICKETS_RECUS", "support:agent_queues"
    DOCUMENTATION = "DOCUMENTATION", "support:docs"
