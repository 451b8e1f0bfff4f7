"""Seed the catalogue: domains, applications and their profiles.

The data is frozen here on purpose: a later change to the catalogue is a new migration.
"""

from django.db import migrations
from django.utils.translation import gettext_noop

DOMAINS = [
    # code, name, description, icon, order
    ("facturation", gettext_noop("Facturation"), gettext_noop("Déposer, suivre et traiter les factures et demandes de paiement."), "fr-icon-file-text-line", 1),
    ("organisation", gettext_noop("Organisation"), gettext_noop("Gérer vos structures, leurs services, coordonnées bancaires et pièces jointes, ainsi que les utilisateurs et leurs habilitations."), "fr-icon-building-line", 2),
    ("support", gettext_noop("Support"), gettext_noop("Obtenir de l’aide : assistant virtuel, échange avec un agent, tickets et documentation."), "fr-icon-questionnaire-line", 3),
]

ALL = ""
COMPANY = "entreprise,association,particulier"
PUBLIC = "entite-publique"

# code, name, domain, section, access, governed_by, audiences, listed, description
APPLICATIONS = [
    ("ORGANISATION", gettext_noop("Organisation"), "organisation", "", "profile", None, ALL, False,
     gettext_noop("Administrer une structure : ses informations, ses services, ses coordonnées bancaires, ses pièces jointes, ses utilisateurs et leurs habilitations.")),
    ("CREER_STRUCTURE", gettext_noop("Créer une structure"), "organisation", gettext_noop("Structure"), "personal", None, ALL, True,
     gettext_noop("Créer une structure à partir de son SIRET, avec les données de la base INSEE.")),
    ("GERER_STRUCTURE", gettext_noop("Gérer une structure"), "organisation", gettext_noop("Structure"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Consulter, modifier, activer, désactiver une structure ou la mettre à jour depuis la base INSEE.")),
    ("CREER_SERVICE", gettext_noop("Créer un service"), "organisation", gettext_noop("Structure"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Créer un service de la structure, vers lequel les factures peuvent être adressées.")),
    ("GERER_SERVICE", gettext_noop("Gérer un service"), "organisation", gettext_noop("Structure"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Consulter, modifier ou désactiver les services d’une structure.")),
    ("CREER_COORDONNEE_BANCAIRE", gettext_noop("Créer une coordonnée bancaire"), "organisation", gettext_noop("Structure"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Déclarer un RIB ou un IBAN de la structure, avec son justificatif PDF.")),
    ("GERER_COORDONNEE_BANCAIRE", gettext_noop("Gérer une coordonnée bancaire"), "organisation", gettext_noop("Structure"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Consulter ou désactiver les coordonnées bancaires d’une structure.")),
    ("CREER_PIECE_JOINTE", gettext_noop("Créer une pièce jointe"), "organisation", gettext_noop("Structure"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Déposer un document pour une structure, visible de tous ses utilisateurs.")),
    ("GERER_PIECE_JOINTE", gettext_noop("Télécharger / supprimer une pièce jointe"), "organisation", gettext_noop("Structure"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Télécharger ou supprimer les documents d’une structure.")),
    ("DUPLIQUER_STRUCTURE", gettext_noop("Dupliquer une structure"), "organisation", gettext_noop("Structure"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Créer une structure à partir d’une autre, lors d’un changement de SIRET.")),
    ("TRANSFERER_GP", gettext_noop("Transférer le gestionnaire principal"), "organisation", gettext_noop("Structure"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Confier le rôle de gestionnaire principal à un autre utilisateur de la structure.")),
    ("RATTACHER_UTILISATEUR", gettext_noop("Rattacher un utilisateur"), "organisation", gettext_noop("Utilisateurs"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Rattacher un utilisateur à une structure ou à certains de ses services.")),
    ("DETACHER_UTILISATEUR", gettext_noop("Détacher un utilisateur"), "organisation", gettext_noop("Utilisateurs"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Détacher un utilisateur d’une structure ou de certains de ses services.")),
    ("CONSULTER_UTILISATEURS", gettext_noop("Consulter les utilisateurs"), "organisation", gettext_noop("Utilisateurs"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Rechercher les utilisateurs de vos structures et exporter leurs profils.")),
    ("AFFICHER_UTILISATEUR", gettext_noop("Afficher un utilisateur"), "organisation", gettext_noop("Utilisateurs"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Voir les rattachements et les profils d’un utilisateur sur vos structures.")),
    ("GERER_HABILITATIONS", gettext_noop("Gérer les habilitations des utilisateurs"), "organisation", gettext_noop("Utilisateurs"), "profile", "ORGANISATION", ALL, True,
     gettext_noop("Ajouter, remplacer ou retirer les profils des utilisateurs de vos structures.")),
    ("GERER_MES_HABILITATIONS", gettext_noop("Gérer mes habilitations"), "organisation", gettext_noop("Utilisateurs"), "personal", None, ALL, True,
     gettext_noop("Consulter vos profils et en demander d’autres.")),
    ("DEMANDER_RATTACHEMENT", gettext_noop("Demander un rattachement"), "organisation", gettext_noop("Utilisateurs"), "personal", None, ALL, True,
     gettext_noop("Rechercher une structure par son SIRET et demander à y être rattaché.")),
    ("APPROBATIONS", gettext_noop("Approbations"), "organisation", gettext_noop("Utilisateurs"), "personal", None, ALL, False,
     gettext_noop("Approuver ou refuser les demandes de rattachement et de profils.")),
    ("FACTURE_EMISE", gettext_noop("Facture émise"), "facturation", "", "profile", None, COMPANY, True,
     gettext_noop("Déposer et suivre les factures émises vers le secteur public.")),
    ("FACTURES_TRAVAUX", gettext_noop("Factures de travaux"), "facturation", "", "profile", None, "entreprise,entite-publique", True,
     gettext_noop("Déposer et suivre les demandes de paiement des marchés de travaux.")),
    ("FACTURE_RECUE", gettext_noop("Facture reçue"), "facturation", "", "profile", None, PUBLIC, True,
     gettext_noop("Recevoir et traiter les factures adressées à votre entité publique.")),
    ("MEMOIRE_FRAIS_JUSTICE", gettext_noop("Mémoire de frais de justice"), "facturation", "", "profile", None, "entreprise,particulier,association", True,
     gettext_noop("Déposer les mémoires de frais de justice des prestataires de la justice.")),
    ("REMBOURSEMENT_TAXES", gettext_noop("Remboursement de taxes"), "facturation", "", "profile", None, "entreprise", True,
     gettext_noop("Demander le remboursement de taxes.")),
    ("ENGAGEMENT", gettext_noop("Engagement"), "facturation", "", "profile", None, PUBLIC, True,
     gettext_noop("Consulter les engagements juridiques de votre entité publique.")),
    ("NOUS_CONTACTER", gettext_noop("Nous contacter"), "support", "", "personal", None, ALL, True,
     gettext_noop("Assistant virtuel, échange avec un agent ou ticket.")),
    ("TICKETS_EMIS", gettext_noop("Tickets émis"), "support", "", "personal", None, ALL, True,
     gettext_noop("Suivre vos demandes au support.")),
    ("TICKETS_RECUS", gettext_noop("Tickets reçus"), "support", "", "staff", None, ALL, True,
     gettext_noop("Traiter les demandes adressées au support.")),
    ("DOCUMENTATION", gettext_noop("Documentation"), "support", "", gettext_noop("public"), None, ALL, True,
     gettext_noop("Guides pour gérer son compte, ses structures et ses utilisateurs.")),
]


def seed_catalogue(apps, schema_editor):
    Domain = apps.get_model("chorus", "Domain")
    Application = apps.get_model("chorus", "Application")
    Profile = apps.get_model("chorus", "Profile")
    domains = {}
    for code, name, description, icon, order in DOMAINS:
        domains[code], _ = Domain.objects.update_or_create(
            code=code, defaults={"name": name, "description": description, "icon": icon, "order": order}
        )
    by_code = {}
    for order, (code, name, domain, section, access, governed_by, audiences, listed, description) in enumerate(APPLICATIONS):
        by_code[code], _ = Application.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "domain": domains[domain],
                "section": section,
                "access": access,
                "governed_by": by_code[governed_by] if governed_by else None,
                "audiences": audiences,
                "is_listed": listed,
                "description": description,
                "order": order,
            },
        )
        if access == "profile" and governed_by is None:
            for level in (1, 2):
                Profile.objects.get_or_create(application=by_code[code], level=level)


class Migration(migrations.Migration):
    dependencies = [("chorus", "0002_initial")]

    operations = [migrations.RunPython(seed_catalogue, migrations.RunPython.noop)]
