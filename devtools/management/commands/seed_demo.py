"""Demo data: three structures and six accounts, one per persona of the portal.

Never overwrites: the accounts (by email) and structures (by SIRET) are created when
missing and left as the users changed them otherwise. What hangs on them (services,
attachments, profiles, the principal manager) is created only with them, so a profile
removed, a principal manager transferred or a service closed stays so after a restart.
`--reset` deletes the demo accounts and structures, and all that hangs on them, then
creates them again.
"""

from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone

from chorus.codes import ApplicationCode
from chorus.models import Habilitation, Level, Profile
from structures.identifiers import luhn_complete, vat_number
from structures.models import Service, Structure
from users.models import Membership
from users.services import members as user_services

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

# Principal managers are attached first: the first user attached to a new structure
# takes the role (PRINCIPAL_MANAGERS documents the result).
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
    ("gestionnaire@exemple.fr", "company", ApplicationCode.FACTURE_EMISE, Level.MODIFICATION),
    ("delegue@exemple.fr", "company", ApplicationCode.ORGANISATION, Level.MODIFICATION),
    ("utilisateur@exemple.fr", "company", ApplicationCode.ORGANISATION, Level.CONSULTATION),
    ("utilisateur@exemple.fr", "company", ApplicationCode.FACTURE_EMISE, Level.CONSULTATION),
    ("utilisateur@exemple.fr", "company", ApplicationCode.MEMOIRE_FRAIS_JUSTICE, Level.CONSULTATION),
]


KINDS = {
    # kind: (label, feminine)
    "accounts": ("comptes", False),
    "structures": ("structures", True),
    "services": ("services", False),
    "memberships": ("rattachements", False),
    "habilitations": ("profils", False),
}


def _delete_all(queryset, depth=0):
    """Delete, first deleting the rows that protect these ones (bank details, tickets,
    requests… of the demo), so that a reset works whatever the users did with them."""
    while True:
        try:
            queryset.delete()
            return
        except (ProtectedError, RestrictedError) as error:
            if depth > 20:
                raise
            if isinstance(error, ProtectedError):
                blockers = error.protected_objects
            else:
                blockers = error.restricted_objects
            for blocker in list(blockers):
                _delete_all(type(blocker)._default_manager.filter(pk=blocker.pk), depth + 1)


class Command(BaseCommand):
    help = (
        "Crée les données de démonstration qui manquent (structures, services, comptes et habilitations) "
        "sans jamais modifier celles qui existent ; --reset les remet dans leur état d’origine."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="supprime les comptes et structures de démonstration (et ce qui en dépend) puis les recrée",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        self.was_reset = options["reset"]
        if self.was_reset:
            self.reset()
        self.created = dict.fromkeys(KINDS, 0)
        self.found = dict.fromkeys(KINDS, 0)
        users, new_users = self.ensure_users()
        structures, new_structures = self.ensure_structures()
        self.ensure_services(structures, new_structures)
        # Attachments and profiles come with a new account or structure only: on an existing
        # pair, a missing one was removed by someone, and stays removed.
        for email, key in MEMBERSHIPS:
            if email in new_users or key in new_structures:
                self.ensure_membership(users[email], structures[key])
        self.ensure_habilitations(users, new_users, structures, new_structures)
        self.print_summary()

    def ensure_users(self):
        users, new_users = {}, set()
        for email, spec in ACCOUNTS.items():
            users[email], created = self.ensure_user(email, *spec[:4])
            if created:
                new_users.add(email)
        return users, new_users

    def ensure_structures(self):
        structures, new_structures = {}, set()
        for key, values in STRUCTURES.items():
            structures[key], created = self.ensure_structure(values)
            if created:
                new_structures.add(key)
        return structures, new_structures

    def ensure_services(self, structures, new_structures):
        for key, services in SERVICES.items():
            if key not in new_structures:
                continue
            for code, name, commitment_required in services:
                _service, created = Service.objects.get_or_create(
                    structure=structures[key],
                    code=code,
                    defaults={"name": name, "is_active": True, "commitment_required": commitment_required},
                )
                self.count("services", created)

    def ensure_habilitations(self, users, new_users, structures, new_structures):
        for email, key, code, level in HABILITATIONS:
            if email not in new_users and key not in new_structures:
                continue
            _habilitation, created = Habilitation.objects.get_or_create(
                user=users[email],
                structure=structures[key],
                service=None,
                profile=Profile.objects.get(application__code=code, level=level),
            )
            self.count("habilitations", created)

    def count(self, kind, created):
        (self.created if created else self.found)[kind] += 1

    def reset(self):
        identifiers = [values["identifier"] for values in STRUCTURES.values()]
        User = get_user_model()
        structures = Structure.objects.filter(
            identifier_type=Structure.IdentifierType.SIRET, identifier__in=identifiers
        )
        # The principal manager column protects the demo accounts: cleared first (an active
        # structure needs one, so they are marked inactive on their way out).
        _delete_all(Habilitation.objects.filter(structure__in=structures))
        _delete_all(Membership.objects.filter(structure__in=structures))
        Structure.objects.filter(pk__in=structures.values("pk")).update(
            principal_manager=None, status=Structure.Status.INACTIVE
        )
        _delete_all(Structure.objects.filter(pk__in=list(structures.values_list("pk", flat=True))))
        _delete_all(User.objects.filter(email__in=list(ACCOUNTS)))
        self.stdout.write("Données de démonstration supprimées : elles sont recréées.")

    def ensure_user(self, email, first_name, last_name, is_staff, is_superuser):
        User = get_user_model()
        user = User.objects.filter(email=email).first()
        created = user is None
        if created:
            user = User(
                email=email,
                first_name=first_name,
                last_name=last_name,
                is_active=True,
                is_staff=is_staff,
                is_superuser=is_superuser,
                activated_at=timezone.now(),
            )
            user.set_password(PASSWORD)
            user.save()
        # A reviewer who mistyped the password five times would stay locked out (login
        # attempts only: the account itself is left as it is).
        axes_reset(username=email)
        self.count("accounts", created)
        return user, created

    def ensure_structure(self, values):
        values = dict(values)
        identifier = values.pop("identifier")
        if values.get("status") == Structure.Status.ACTIVE:
            # Active only with a principal manager (a database check): the first
            # attachment gives it one and activates it.
            values["status"] = Structure.Status.EN_COURS_ACTIVATION
        structure, created = Structure.objects.get_or_create(
            identifier_type=Structure.IdentifierType.SIRET, identifier=identifier, defaults=values
        )
        self.count("structures", created)
        return structure, created

    def ensure_membership(self, user, structure):
        live = Membership.objects.filter(
            user=user, structure=structure, service=None, status__in=Membership.LIVE_STATUSES
        ).exists()
        if not live:
            user_services.membership_attach(
                user=user, structure=structure, comment="Données de démonstration"
            )
        self.count("memberships", not live)

    def print_summary(self):
        created, found = sum(self.created.values()), sum(self.found.values())
        # What was found is left as it is: say so, a restart must not look like a reset.
        untouched = "" if self.was_reset else " — rien n’a été modifié"
        line = f"Données de démonstration : {created} créée(s), {found} trouvée(s){untouched}."
        self.stdout.write(self.style.SUCCESS(line))
        for kind, (label, feminine) in KINDS.items():
            if self.created[kind] or self.found[kind]:
                ending = "e" if feminine else ""
                self.stdout.write(
                    f"  {label.capitalize()} : {self.created[kind]} créé{ending}(s), "
                    f"{self.found[kind]} trouvé{ending}(s)"
                )
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
