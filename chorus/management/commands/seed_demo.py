"""Demo data: three structures and six accounts, one per persona of the portal.

Idempotent: every object is looked up by its natural key (email, identifier, code), so
running the command again changes nothing and duplicates nothing.
"""

from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from chorus import audit
from chorus.models import Habilitation, Level, Profile
from structures.identifiers import luhn_complete, vat_number
from structures.models import Service, Structure
from users import services as user_services
from users.models import Membership

PASSWORD = "Demo-Portail-2026"


def siret(siren8: str, nic4: str = "0001") -> str:
    siren = luhn_complete(siren8)
    return luhn_complete(siren + nic4)


COMMUNE_SIRET = siret("21180026")
COMPANY_SIRET = siret("81234567")
FORMER_SIRET = siret("38512749")

STRUCTURES = {
    "commune": {
        "identifier": COMMUNE_SIRET,
        "company_name": "Commune de Belleville-sur-Loire",
        "label": "Mairie de Belleville-sur-Loire",
        "kind": Structure.Kind.PUBLIQUE,
        "status": Structure.Status.ACTIVE,
        "email": "mairie@belleville-sur-loire.exemple.fr",
        "phone": "02 48 00 00 00",
        "address": "1 place de la Mairie",
        "postcode": "18240",
        "city": "Belleville-sur-Loire",
        "legal_category": "7210",
        "service_code_required": True,
        "commitment_required": True,
        "payment_status_managed": True,
    },
    "company": {
        "identifier": COMPANY_SIRET,
        "company_name": "Atelier Textile du Nord",
        "label": "Atelier Textile du Nord",
        "kind": Structure.Kind.PRIVEE,
        "status": Structure.Status.ACTIVE,
        "rcs_number": f"RCS Lille Métropole {COMPANY_SIRET[:9]}",
        "vat_number": vat_number(COMPANY_SIRET[:9]),
        "email": "contact@atelier-textile-du-nord.exemple.fr",
        "phone": "03 20 00 00 00",
        "address": "12 rue de la Filature",
        "postcode": "59100",
        "city": "Roubaix",
        "legal_category": "5710",
        "company_category": "PME",
    },
    "former": {
        "identifier": FORMER_SIRET,
        "company_name": "Ancienne Menuiserie Lefèvre",
        "kind": Structure.Kind.PRIVEE,
        "status": Structure.Status.INACTIVE,
        "vat_number": vat_number(FORMER_SIRET[:9]),
        "address": "4 impasse des Tilleuls",
        "postcode": "80000",
        "city": "Amiens",
        "legal_category": "5499",
        "company_category": "PME",
    },
}

SERVICES = {
    "commune": [
        # code, name, commitment_required
        ("SERV_TECHNIQUES", "Services techniques", True),
        ("ETAT_CIVIL", "État civil", False),
        ("FINANCES", "Service des finances", False),
    ],
    "company": [("TEXTILE", "Service textile", False)],
}

# email: (first name, last name, is_staff, is_superuser, role shown in the summary)
ACCOUNTS = {
    "gestionnaire@exemple.fr": (
        "Camille",
        "Martin",
        False,
        False,
        "Gestionnaire principal de l’Atelier Textile du Nord, de la Commune de "
        "Belleville-sur-Loire et de l’Ancienne Menuiserie Lefèvre (désactivée)",
    ),
    "delegue@exemple.fr": (
        "Sophie",
        "Bernard",
        False,
        False,
        "Administratrice déléguée (Organisation – modification) de l’Atelier Textile du Nord",
    ),
    "utilisateur@exemple.fr": (
        "Lucas",
        "Petit",
        False,
        False,
        "Utilisateur simple de l’Atelier Textile du Nord (profils de consultation)",
    ),
    "nouveau@exemple.fr": (
        "Emma",
        "Durand",
        False,
        False,
        "Nouvel utilisateur, rattaché à aucune structure",
    ),
    "agent@exemple.fr": (
        "Julien",
        "Moreau",
        True,
        False,
        "Agent du support (équipe, sans droit sur les structures)",
    ),
    "operateur@exemple.fr": (
        "Nathalie",
        "Girard",
        True,
        True,
        "Opérateur (superutilisateur, administration /admin/)",
    ),
}

# Principal managers are attached first: the first attached user takes the role.
MEMBERSHIPS = [
    ("gestionnaire@exemple.fr", "company"),
    ("gestionnaire@exemple.fr", "commune"),
    ("gestionnaire@exemple.fr", "former"),
    ("delegue@exemple.fr", "company"),
    ("utilisateur@exemple.fr", "company"),
]
PRINCIPAL_MANAGERS = {
    "company": "gestionnaire@exemple.fr",
    "commune": "gestionnaire@exemple.fr",
    "former": "gestionnaire@exemple.fr",
}

HABILITATIONS = [
    # email, structure, application code, level
    ("gestionnaire@exemple.fr", "company", "FACTURE_EMISE", Level.MODIFICATION),
    ("delegue@exemple.fr", "company", "ORGANISATION", Level.MODIFICATION),
    ("utilisateur@exemple.fr", "company", "ORGANISATION", Level.CONSULTATION),
    ("utilisateur@exemple.fr", "company", "FACTURE_EMISE", Level.CONSULTATION),
    ("utilisateur@exemple.fr", "company", "MEMOIRE_FRAIS_JUSTICE", Level.CONSULTATION),
]


class Command(BaseCommand):
    help = (
        "Crée (ou met à jour) les données de démonstration : structures, services, comptes et habilitations."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        self.created = 0
        users = {email: self.ensure_user(email, *spec[:4]) for email, spec in ACCOUNTS.items()}
        structures = {key: self.ensure_structure(values) for key, values in STRUCTURES.items()}
        for key, services in SERVICES.items():
            for code, name, commitment_required in services:
                _service, created = Service.objects.update_or_create(
                    structure=structures[key],
                    code=code,
                    defaults={
                        "name": name,
                        "is_active": True,
                        "commitment_required": commitment_required,
                    },
                )
                self.created += created
        for email, key in MEMBERSHIPS:
            self.ensure_membership(users[email], structures[key])
        for key, email in PRINCIPAL_MANAGERS.items():
            self.ensure_principal_manager(structures[key], users[email])
        for email, key, code, level in HABILITATIONS:
            _habilitation, created = Habilitation.objects.get_or_create(
                user=users[email],
                structure=structures[key],
                service=None,
                profile=Profile.objects.get(application__code=code, level=level),
            )
            self.created += created
        self.print_summary()

    def ensure_user(self, email, first_name, last_name, is_staff, is_superuser):
        User = get_user_model()
        user, created = User.objects.get_or_create(email=email)
        wanted = {
            "first_name": first_name,
            "last_name": last_name,
            "is_active": True,
            "is_staff": is_staff,
            "is_superuser": is_superuser,
        }
        changed = [name for name, value in wanted.items() if getattr(user, name) != value]
        for name in changed:
            setattr(user, name, wanted[name])
        if user.activated_at is None:
            user.activated_at = timezone.now()
            changed.append("activated_at")
        # The demo must always log in with the documented password; checking first
        # keeps a second run from rewriting the hash.
        if not user.check_password(PASSWORD):
            user.set_password(PASSWORD)
            changed.append("password")
        if changed:
            user.save(update_fields=changed)
        # A reviewer who mistyped the password five times would stay locked out.
        axes_reset(username=email)
        self.created += created
        return user

    def ensure_structure(self, values):
        values = dict(values)
        identifier = values.pop("identifier")
        has_manager = Structure.objects.filter(
            identifier_type=Structure.IdentifierType.SIRET,
            identifier=identifier,
            principal_manager__isnull=False,
        ).exists()
        if values.get("status") == Structure.Status.ACTIVE and not has_manager:
            # Active only with a principal manager (a database check): the first
            # attachment below gives it one and activates it.
            values["status"] = Structure.Status.EN_COURS_ACTIVATION
        structure, created = Structure.objects.get_or_create(
            identifier_type=Structure.IdentifierType.SIRET, identifier=identifier, defaults=values
        )
        changed = [name for name, value in values.items() if getattr(structure, name) != value]
        if changed:
            for name in changed:
                setattr(structure, name, values[name])
            structure.save(update_fields=[*changed, "updated_at"])
        self.created += created
        return structure

    def ensure_membership(self, user, structure):
        live = Membership.objects.filter(
            user=user, structure=structure, service=None, status__in=Membership.LIVE_STATUSES
        ).first()
        if live is None:
            user_services.membership_attach(
                user=user, structure=structure, comment="Données de démonstration"
            )
            self.created += 1
        elif live.status != Membership.Status.VALIDEE:
            live.status = Membership.Status.VALIDEE
            live.save(update_fields=["status", "updated_at"])

    def ensure_principal_manager(self, structure, user):
        structure.refresh_from_db(fields=["principal_manager"])
        if structure.principal_manager_id == user.pk:
            return
        # Someone else took the role since the last run: give it back, visibly.
        before = structure.principal_manager.email if structure.principal_manager_id else None
        structure.principal_manager = user
        structure.save(update_fields=["principal_manager", "updated_at"])
        audit.record(
            actor=None,
            obj=structure,
            action="principal_manager_assign",
            changes={"before": before, "after": user.email},
        )

    def print_summary(self):
        if self.created:
            self.stdout.write(self.style.SUCCESS(f"Données de démonstration créées ({self.created} objets)."))
        else:
            self.stdout.write(self.style.SUCCESS("Données de démonstration déjà présentes : rien à créer."))
        self.stdout.write("")
        self.stdout.write(f"Comptes de démonstration (mot de passe commun : {PASSWORD})")
        rows = [("Adresse de connexion", "Mot de passe", "Rôle")]
        rows += [(email, PASSWORD, spec[4]) for email, spec in ACCOUNTS.items()]
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        rule = f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * 20}"
        for index, (email, password, role) in enumerate(rows):
            self.stdout.write(f"{email:<{widths[0]}}  {password:<{widths[1]}}  {role}")
            if index == 0:
                self.stdout.write(rule)
        self.stdout.write("")
        self.stdout.write("Structures :")
        for values in STRUCTURES.values():
            status = Structure.Status(values["status"]).label
            kind = Structure.Kind(values["kind"]).label
            self.stdout.write(f"  {values['identifier']}  {values['company_name']} ({kind}, {status})")
