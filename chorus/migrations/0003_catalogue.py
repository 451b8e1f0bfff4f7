"""Seed the catalogue of SPEC.md: domains, applications and their profiles.

The data is frozen here on purpose: a later change to the catalogue is a new migration.
"""

from django.db import migrations

DOMAINS = [
    # code, name, description, icon, order
    ("facturation", "Facturation", "Déposer, suivre et traiter les factures et demandes de paiement.", "fr-icon-file-text-line", 1),
    ("organisation", "Organisation", "Gérer vos structures, leurs services, coordonnées bancaires et pièces jointes, ainsi que les utilisateurs et leurs habilitations.", "fr-icon-building-line", 2),
    ("support", "Support", "Obtenir de l'aide : assistant virtuel, échange avec un agent, tickets et documentation.", "fr-icon-questionnaire-line", 3),
]

ALL = ""
COMPANY = "entreprise,association,particulier"
PUBLIC = "entite-publique"

# code, name, domain, section, access, governed_by, audiences, listed, description
APPLICATIONS = [
    ("ORGANISATION", "Organisation", "organisation", "", "profile", None, ALL, False,
     "Administrer une structure : ses informations, ses services, ses coordonnées bancaires, ses pièces jointes, ses utilisateurs et leurs habilitations."),
    ("CREER_STRUCTURE", "Créer une structure", "organisation", "Structure", "personal", None, ALL, True,
     "Créer une structure à partir de son SIRET, avec les données de la base INSEE."),
    ("GERER_STRUCTURE", "Gérer une structure", "organisation", "Structure", "profile", "ORGANISATION", ALL, True,
     "Consulter, modifier, activer, désactiver une structure ou la mettre à jour depuis la base INSEE."),
    ("CREER_SERVICE", "Créer un service", "organisation", "Structure", "profile", "ORGANISATION", ALL, True,
     "Créer un service de la structure, vers lequel les factures peuvent être adressées."),
    ("GERER_SERVICE", "Gérer un service", "organisation", "Structure", "profile", "ORGANISATION", ALL, True,
     "Consulter, modifier ou désactiver les services d'une structure."),
    ("CREER_COORDONNEE_BANCAIRE", "Créer une coordonnée bancaire", "organisation", "Structure", "profile", "ORGANISATION", ALL, True,
     "Déclarer un RIB ou un IBAN de la structure, avec son justificatif PDF."),
    ("GERER_COORDONNEE_BANCAIRE", "Gérer une coordonnée bancaire", "organisation", "Structure", "profile", "ORGANISATION", ALL, True,
     "Consulter ou désactiver les coordonnées bancaires d'une structure."),
    ("CREER_PIECE_JOINTE", "Créer une pièce jointe", "organisation", "Structure", "profile", "ORGANISATION", ALL, True,
     "Déposer un document pour une structure, visible de tous ses utilisateurs."),
    ("GERER_PIECE_JOINTE", "Télécharger / supprimer une pièce jointe", "organisation", "Structure", "profile", "ORGANISATION", ALL, True,
     "Télécharger ou supprimer les documents d'une structure."),
    ("DUPLIQUER_STRUCTURE", "Dupliquer une structure", "organisation", "Structure", "profile", "ORGANISATION", ALL, True,
     "Créer une structure à partir d'une autre, lors d'un changement de SIRET."),
    ("TRANSFERER_GP", "Transférer le gestionnaire principal", "organisation", "Structure", "profile", "ORGANISATION", ALL, True,
     "Confier le rôle de gestionnaire principal à un autre utilisateur de la structure."),
    ("RATTACHER_UTILISATEUR", "Rattacher un utilisateur", "organisation", "Utilisateurs", "profile", "ORGANISATION", ALL, True,
     "Rattacher un utilisateur à une structure ou à certains de ses services."),
    ("DETACHER_UTILISATEUR", "Détacher un utilisateur", "organisation", "Utilisateurs", "profile", "ORGANISATION", ALL, True,
     "Détacher un utilisateur d'une structure ou de certains de ses services."),
    ("CONSULTER_UTILISATEURS", "Consulter les utilisateurs", "organisation", "Utilisateurs", "profile", "ORGANISATION", ALL, True,
     "Rechercher les utilisateurs de vos structures et exporter leurs profils."),
    ("AFFICHER_UTILISATEUR", "Afficher un utilisateur", "organisation", "Utilisateurs", "profile", "ORGANISATION", ALL, True,
     "Voir les rattachements et les profils d'un utilisateur sur vos structures."),
    ("GERER_HABILITATIONS", "Gérer les habilitations des utilisateurs", "organisation", "Utilisateurs", "profile", "ORGANISATION", ALL, True,
     "Ajouter, remplacer ou retirer les profils des utilisateurs de vos structures."),
    ("GERER_MES_HABILITATIONS", "Gérer mes habilitations", "organisation", "Utilisateurs", "personal", None, ALL, True,
     "Consulter vos profils et en demander d'autres."),
    ("DEMANDER_RATTACHEMENT", "Demander un rattachement", "organisation", "Utilisateurs", "personal", None, ALL, True,
     "Rechercher une structure par son SIRET et demander à y être rattaché."),
    ("APPROBATIONS", "Approbations", "organisation", "Utilisateurs", "personal", None, ALL, False,
     "Approuver ou refuser les demandes de rattachement et de profils."),
    ("FACTURE_EMISE", "Facture émise", "facturation", "", "profile", None, COMPANY, True,
     "Déposer et suivre les factures émises vers le secteur public."),
    ("FACTURES_TRAVAUX", "Factures de travaux", "facturation", "", "profile", None, "entreprise,entite-publique", True,
     "Déposer et suivre les demandes de paiement des marchés de travaux."),
    ("FACTURE_RECUE", "Facture reçue", "facturation", "", "profile", None, PUBLIC, True,
     "Recevoir et traiter les factures adressées à votre entité publique."),
    ("MEMOIRE_FRAIS_JUSTICE", "Mémoire de frais de justice", "facturation", "", "profile", None, "entreprise,particulier,association", True,
     "Déposer les mémoires de frais de justice des prestataires de la justice."),
    ("REMBOURSEMENT_TAXES", "Remboursement de taxes", "facturation", "", "profile", None, "entreprise", True,
     "Demander le remboursement de taxes."),
    ("ENGAGEMENT", "Engagement", "facturation", "", "profile", None, PUBLIC, True,
     "Consulter les engagements juridiques de votre entité publique."),
    ("NOUS_CONTACTER", "Nous contacter", "support", "", "personal", None, ALL, True,
     "Assistant virtuel, échange avec un agent ou ticket."),
    ("TICKETS_EMIS", "Tickets émis", "support", "", "personal", None, ALL, True,
     "Suivre vos demandes au support."),
    ("TICKETS_RECUS", "Tickets reçus", "support", "", "staff", None, ALL, True,
     "Traiter les demandes adressées au support."),
    ("DOCUMENTATION", "Documentation", "support", "", "public", None, ALL, True,
     "Guides pour gérer son compte, ses structures et ses utilisateurs."),
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
