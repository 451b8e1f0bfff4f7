"""Synthetic data at Chorus Pro scale, for load benchmarks (`generate_scale_data`).

Per 100,000 structures: about 300,000 users, 1,000,000 habilitations, 150,000 services,
120,000 bank details, 50,000 pending approvals and 200,000 tickets with their activity.
Structures are generated one after another with the same distributions, so that the
neighbourhood of any structure looks the same at 1,000 or at 100,000 structures: a page
about one structure should cost the same at both sizes.

The first generated structure is the reference one, of fixed shape, with known accounts
(gestionnaire@, delegue@, utilisateur@ and agent@scale.exemple.fr): the benchmark logs in
as them.

Rows are written in chunks with PostgreSQL's COPY (about 50 times faster than INSERTs);
on SQLite, with executemany. Columns the generator does not set get the model's default,
so a field added later with a default does not break the generator.
"""

import random
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from approvals.models import ApprovalRequest
from chorus.codes import ApplicationCode
from chorus.models import Application, Habilitation, Level, Profile
from structures.identifiers import luhn_complete, vat_number
from structures.models import BankAccount, Service, Structure
from support.models import Category, Queue, SubCategory, Ticket, TicketEvent
from users.models import Membership, User

EMAIL_DOMAIN = "scale.exemple.fr"
PASSWORD = "Scale-Portail-2026"
REFERENCE_ACCOUNTS = {
    "principal_manager": f"gestionnaire@{EMAIL_DOMAIN}",
    "delegate": f"delegue@{EMAIL_DOMAIN}",
    "consultation": f"utilisateur@{EMAIL_DOMAIN}",
    "agent": f"agent@{EMAIL_DOMAIN}",
}
CHUNK = 2000  # structures written per transaction

FIRST_NAMES = (
    "Camille Léa Manon Chloé Emma Inès Jade Louise Alice Lina Hugo Lucas Louis Jules Gabriel Arthur "
    "Adam Raphaël Paul Nathan Marie Claire Anne Sophie Julien Nicolas Thomas Pierre Antoine Céline"
).split()
LAST_NAMES = (
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre "
    "Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont "
    "Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc Guerin Muller Henry"
).split()
ACTIVITIES = (
    "Boulangerie Menuiserie Transports Conseil Imprimerie Plomberie Informatique Pharmacie Garage "
    "Architecture Traiteur Librairie Électricité Nettoyage Paysages Formation Ingénierie Maçonnerie"
).split()
CITIES = (
    ("Paris", "75011"),
    ("Lyon", "69003"),
    ("Marseille", "13008"),
    ("Toulouse", "31000"),
    ("Nantes", "44000"),
    ("Bordeaux", "33000"),
    ("Lille", "59000"),
    ("Rennes", "35000"),
    ("Bourges", "18000"),
    ("Orléans", "45000"),
    ("Dijon", "21000"),
    ("Grenoble", "38000"),
)
LEGAL_FORMS = ("SARL", "SAS", "SA", "EURL", "SCOP", "SASU")
PUBLIC_BODIES = ("Commune de", "Communauté de communes de", "Syndicat des eaux de", "Collège de", "CCAS de")
BICS = ("BNPAFRPP", "SOGEFRPP", "CRLYFRPP", "AGRIFRPP", "CCBPFRPP", "PSSTFRPP")
TICKET_SUBJECTS = (
    "Facture rejetée",
    "Impossible de rattacher un utilisateur",
    "Coordonnée bancaire en attente",
    "Question sur le service exécutant",
    "Erreur à la connexion",
    "Statut de paiement non mis à jour",
)
# Tickets spread across statuses as a live help desk holds them: most are closed.
TICKET_STATUSES = (
    ("BROUILLON", 5),
    ("SOUMIS", 15),
    ("EN_COURS", 20),
    ("EN_ATTENTE_INFORMATION", 10),
    ("RESOLU", 10),
    ("CLOTURE", 40),
)


def siret(siren8: str, nic4: str) -> str:
    return luhn_complete(luhn_complete(siren8) + nic4)


def iban_fr(rng: random.Random) -> tuple[str, str, str, str, str]:
    """A French IBAN with a valid RIB key and check digits, and its RIB parts."""
    bank, branch = f"{rng.randrange(10000, 99999):05d}", f"{rng.randrange(0, 99999):05d}"
    account = f"{rng.randrange(0, 10**11):011d}"
    key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    bban = f"{bank}{branch}{account}{key:02d}"
    check = 98 - int(bban + "152700") % 97  # "FR00" as digits: F=15, R=27
    return f"FR{check:02d}{bban}", bank, branch, account, f"{key:02d}"


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, total: int, stream=None, label="structures"):
        self.total, self.label, self.start = max(total, 1), label, time.monotonic()
        self.stream = stream or sys.stderr

    def update(self, done: int):
        elapsed = time.monotonic() - self.start
        width = 30
        filled = int(width * done / self.total)
        eta = elapsed / done * (self.total - done) if done else 0
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} {self.label}"
            f"  {elapsed:5.0f} s (reste ~{eta:4.0f} s)"
        )
        self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


class TableWriter:
    """Writes rows of a model given as tuples for some fields; every other concrete
    field gets its default (auto_now fields: the generation time)."""

    def __init__(self, model, field_names, now):
        self.model = model
        self.table = model._meta.db_table
        fields = {f.name: f for f in model._meta.concrete_fields}
        self.fields = [fields[name] for name in field_names]
        # A field whose migration is not applied yet (work in progress) is left out.
        with connection.cursor() as cursor:
            existing = {c.name for c in connection.introspection.get_table_description(cursor, self.table)}
        rest = [f for f in model._meta.concrete_fields if f.name not in field_names and f.column in existing]
        self.fields += rest
        self.tail = tuple(
            now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
            for f in rest
        )
        self.columns = [f.column for f in self.fields]

    def write(self, rows):
        if not rows:
            return
        if connection.vendor == "postgresql":
            sql = f'COPY "{self.table}" ({", ".join(chr(34) + c + chr(34) for c in self.columns)}) FROM STDIN'
            with connection.cursor() as cursor:
                with cursor.cursor.copy(sql) as copy:
                    tail = self.tail
                    for row in rows:
                        copy.write_row(row + tail)
        else:
            placeholders = ", ".join(["%s"] * len(self.columns))
            quoted = ", ".join(connection.ops.quote_name(c) for c in self.columns)
            sql = f"INSERT INTO {connection.ops.quote_name(self.table)} ({quoted}) VALUES ({placeholders})"
            prep = [f.get_db_prep_save for f in self.fields]
            with connection.cursor() as cursor:
                cursor.executemany(
                    sql,
                    [[p(v, connection) for p, v in zip(prep, row + self.tail, strict=True)] for row in rows],
                )


def next_id(model) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def reset_sequences(model_list):
    """After explicit ids, the next INSERT must not reuse one (PostgreSQL sequences)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), model_list):
            cursor.execute(sql)


@dataclass
class Counts:
    values: dict = field(default_factory=dict)

    def add(self, name, n):
        self.values[name] = self.values.get(name, 0) + n


class Generator:
    def __init__(self, structures: int, seed: int = 2026, progress=None, offset: int = 0):
        """`offset`: add structures to data generated before with the same seed (the
        reference structure and accounts exist already)."""
        self.n, self.offset = structures, offset
        self.rng = random.Random(seed)
        self.progress = progress
        self.now = timezone.now()
        self.counts = Counts()
        self.M = dict(
            User=User,
            Structure=Structure,
            Service=Service,
            Membership=Membership,
            Habilitation=Habilitation,
            BankAccount=BankAccount,
            ApprovalRequest=ApprovalRequest,
            Ticket=Ticket,
            TicketEvent=TicketEvent,
        )
        self.ids = {name: next_id(model) for name, model in self.M.items()}
        self.profile_m2m = ApprovalRequest.profiles_to_add.through
        self.ids["profiles_to_add"] = next_id(self.profile_m2m)
        if not offset and User.objects.filter(email__endswith="@" + EMAIL_DOMAIN).exists():
            raise ValueError(
                f"Cette base contient déjà des données générées (comptes @{EMAIL_DOMAIN}) : "
                "utilisez une base vide."
            )
        # Profiles a habilitation can grant: applications that carry their own profile.
        self.profiles = {
            (p.application.code, p.level): p.pk
            for p in Profile.objects.select_related("application").filter(
                application__access=Application.Access.PROFILE, application__governed_by__isnull=True
            )
        }
        if (ApplicationCode.ORGANISATION, Level.MODIFICATION) not in self.profiles:
            raise ValueError("Le catalogue n’est pas en base : lancez d’abord « migrate ».")
        self.other_apps = sorted(
            {code for code, _level in self.profiles if code != ApplicationCode.ORGANISATION}
        )
        self.subcategories = [
            (s.pk, s.category_id, s.object_type, "metier" if s.name.startswith("M") else "portail")
            for s in SubCategory.objects.filter(is_active=True, category__is_active=True)
        ]
        self.queues = dict(Queue.objects.values_list("code", "pk"))
        if not self.subcategories or not self.queues or not Category.objects.exists():
            raise ValueError("Les catégories du support ne sont pas en base : lancez d’abord « migrate ».")
        self.ticket_numbers = {}
        self.password = make_password(PASSWORD)
        self.siren_base = 30_000_000 + self.rng.randrange(0, 1_000_000)
        self.ticket_statuses = [s for s, w in TICKET_STATUSES for _ in range(w)]

        self.writers = {
            "User": TableWriter(
                User,
                [
                    "id",
                    "email",
                    "password",
                    "first_name",
                    "last_name",
                    "is_staff",
                    "date_joined",
                    "activated_at",
                ],
                self.now,
            ),
            "Structure": TableWriter(
                Structure,
                [
                    "id",
                    "identifier_type",
                    "identifier",
                    "company_name",
                    "kind",
                    "status",
                    "principal_manager",
                    "address",
                    "postcode",
                    "city",
                    "email",
                    "vat_number",
                    "legal_category",
                ],
                self.now,
            ),
            "Service": TableWriter(Service, ["id", "structure", "code", "name", "is_active"], self.now),
            "Membership": TableWriter(
                Membership,
                ["id", "user", "structure", "service", "status", "started_at", "ended_at"],
                self.now,
            ),
            "Habilitation": TableWriter(
                Habilitation, ["id", "user", "structure", "service", "profile"], self.now
            ),
            "BankAccount": TableWriter(
                BankAccount,
                [
                    "id",
                    "structure",
                    "name",
                    "kind",
                    "iban",
                    "bic",
                    "bank_code",
                    "branch_code",
                    "account_number",
                    "rib_key",
                    "proof",
                    "proof_name",
                    "is_active",
                    "deactivated_at",
                ],
                self.now,
            ),
            "ApprovalRequest": TableWriter(
                ApprovalRequest, ["id", "kind", "requester", "structure", "service", "comment"], self.now
            ),
            "profiles_to_add": TableWriter(self.profile_m2m, ["id", "approvalrequest", "profile"], self.now),
            "Ticket": TableWriter(
                Ticket,
                [
                    "id",
                    "number",
                    "requester",
                    "structure",
                    "contact_email",
                    "category",
                    "subcategory",
                    "object_type",
                    "queue",
                    "title",
                    "summary",
                    "description",
                    "status",
                    "assigned_to",
                    "created_at",
                    "submitted_at",
                    "resolved_at",
                    "closed_at",
                    "last_activity_at",
                ],
                self.now,
            ),
            "TicketEvent": TableWriter(
                TicketEvent,
                ["id", "ticket", "author", "kind", "body", "from_status", "to_status", "created_at"],
                self.now,
            ),
        }

    # -- identifiers -------------------------------------------------------------

    def take(self, name, count=1):
        first = self.ids[name]
        self.ids[name] += count
        return first

    def ticket_number(self, when):
        year = when.year
        if year not in self.ticket_numbers:
            prefix = f"T-{year}-"
            last = (
                Ticket.objects.filter(number__startswith=prefix)
                .order_by("-number")
                .values_list("number", flat=True)
                .first()
            )
            self.ticket_numbers[year] = int(last.rsplit("-", 1)[1]) if last else 0
        self.ticket_numbers[year] += 1
        return f"T-{year}-{self.ticket_numbers[year]:06d}"

    # -- generation ----------------------------------------------------------------

    def run(self):
        agents = self.make_agents()
        done = 0
        while done < self.n:
            size = min(CHUNK, self.n - done)
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit TO OFF")
                self.chunk(self.offset + done, size, agents)
            done += size
            if self.progress:
                self.progress.update(done)
        reset_sequences(list(self.M.values()) + [self.profile_m2m])
        if connection.vendor == "postgresql" and connection.get_autocommit():
            # As autovacuum would do on a live database: planner statistics, and the
            # visibility map that lets counts use index-only scans.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        return self.counts.values

    def make_agents(self):
        count = max(5, self.n // 5000)
        first = self.take("User", count)
        rows = []
        for k in range(count):
            reference = k == 0 and not self.offset
            email = REFERENCE_ACCOUNTS["agent"] if reference else f"agent{first + k}@{EMAIL_DOMAIN}"
            rows.append(self.user_row(first + k, email, staff=True))
        with transaction.atomic():
            self.writers["User"].write(rows)
        self.counts.add("users", count)
        return list(range(first, first + count))

    def user_row(self, pk, email, staff=False):
        rng = self.rng
        joined = self.now - timedelta(days=rng.randrange(1, 1500))
        return (
            pk,
            email,
            self.password,
            rng.choice(FIRST_NAMES),
            rng.choice(LAST_NAMES),
            staff,
            joined,
            joined,
        )

    def chunk(self, offset, size, agents):
        rows = {name: [] for name in self.writers}
        emails = {}

        # The steps draw from the one random generator in this order: a given seed always
        # gives the same data.
        for k in range(offset, offset + size):
            reference = k == 0
            structure_id, user_first, user_ids = self.chunk_structure(rows, k, reference, emails)
            service_ids = self.chunk_services(rows, structure_id, reference)
            self.chunk_memberships(rows, structure_id, user_ids, service_ids, reference)
            self.chunk_bank_accounts(rows, structure_id, reference)
            self.chunk_approvals(rows, structure_id, user_first, user_ids, agents, reference)
            for _i in range(5 if reference else self.rng.choice((0, 1, 2, 3, 4))):
                self.ticket(rows, structure_id, user_ids, agents, emails)

        order = (
            "User",
            "Structure",
            "Service",
            "Membership",
            "Habilitation",
            "BankAccount",
            "ApprovalRequest",
            "profiles_to_add",
            "Ticket",
            "TicketEvent",
        )
        for name in order:
            self.writers[name].write(rows[name])
            self.counts.add(name, len(rows[name]))

    def chunk_structure(self, rows, k, reference, emails):
        """A structure and its people: the principal manager, then members (a delegate,
        consultation users)."""
        rng = self.rng
        structure_id = self.take("Structure")
        public = rng.random() < 0.12
        status = (
            "ACTIVE"
            if reference or rng.random() < 0.95
            else rng.choice(("INACTIVE", "EN_COURS_ACTIVATION"))
        )
        city, postcode = rng.choice(CITIES)
        if public:
            name = f"{rng.choice(PUBLIC_BODIES)} {city} {k}"
        else:
            name = f"{rng.choice(ACTIVITIES)} {rng.choice(LAST_NAMES)} {rng.choice(LEGAL_FORMS)} {k}"
        siren = luhn_complete(f"{self.siren_base + k:08d}")
        identifier = luhn_complete(siren + f"{rng.randrange(1, 99):04d}")
        n_members = 2 if reference else rng.choice((1, 2, 3))
        user_first = self.take("User", 1 + n_members)
        user_ids = list(range(user_first, user_first + 1 + n_members))
        for index, user_id in enumerate(user_ids):
            email = (
                list(REFERENCE_ACCOUNTS.values())[index] if reference else f"u{user_id}@{EMAIL_DOMAIN}"
            )
            emails[user_id] = email
            rows["User"].append(self.user_row(user_id, email))
        manager = user_ids[0]
        rows["Structure"].append(
            (
                structure_id,
                "SIRET",
                identifier,
                name,
                "PUBLIQUE" if public else "PRIVEE",
                status,
                manager,
                f"{rng.randrange(1, 200)} rue {rng.choice(LAST_NAMES)}",
                postcode,
                city,
                f"contact{structure_id}@{EMAIL_DOMAIN}",
                vat_number(siren),
                "7210" if public else "5710",
            )
        )
        return structure_id, user_first, user_ids

    def chunk_services(self, rows, structure_id, reference):
        rng = self.rng
        n_services = 3 if reference else rng.choice((0, 1, 1, 2, 2, 3))
        service_first = self.take("Service", n_services) if n_services else None
        service_ids = [service_first + i for i in range(n_services)] if n_services else []
        for i, service_id in enumerate(service_ids):
            rows["Service"].append(
                (service_id, structure_id, f"SRV-{i + 1:03d}", f"Service {i + 1}", True)
            )
        return service_ids

    def chunk_memberships(self, rows, structure_id, user_ids, service_ids, reference):
        rng, now = self.rng, self.now
        manager = user_ids[0]
        started = now - timedelta(days=rng.randrange(1, 900))
        rows["Membership"].append(
            (self.take("Membership"), manager, structure_id, None, "VALIDEE", started, None)
        )
        # The principal manager holds Organisation by role; three more profiles.
        for code in rng.sample(self.other_apps, 3):
            rows["Habilitation"].append(
                (
                    self.take("Habilitation"),
                    manager,
                    structure_id,
                    None,
                    self.profiles[(code, Level.MODIFICATION)],
                )
            )
        for index, user_id in enumerate(user_ids[1:]):
            on_service = service_ids and not reference and rng.random() < 0.3
            service_id = rng.choice(service_ids) if on_service else None
            ended = not reference and rng.random() < 0.05
            rows["Membership"].append(
                (
                    self.take("Membership"),
                    user_id,
                    structure_id,
                    service_id,
                    "DESACTIVEE" if ended else "VALIDEE",
                    started,
                    now - timedelta(days=rng.randrange(1, 30)) if ended else None,
                )
            )
            delegate = index == 0 and (reference or rng.random() < 0.6)
            level = Level.MODIFICATION if delegate else Level.CONSULTATION
            codes = ["ORGANISATION", *rng.sample(self.other_apps, 2 if reference else rng.choice((2, 3)))]
            for code in codes:
                rows["Habilitation"].append(
                    (
                        self.take("Habilitation"),
                        user_id,
                        structure_id,
                        service_id,
                        self.profiles[(code, level)],
                    )
                )

    def chunk_bank_accounts(self, rows, structure_id, reference):
        rng, now = self.rng, self.now
        for _i in range(2 if reference else rng.choice((0, 1, 1, 2, 2))):
            iban, bank, branch, account, key = iban_fr(rng)
            active = rng.random() < 0.9
            bank_id = self.take("BankAccount")
            rows["BankAccount"].append(
                (
                    bank_id,
                    structure_id,
                    f"Compte {bank_id}",
                    "IBAN",
                    iban,
                    rng.choice(BICS),
                    bank,
                    branch,
                    account,
                    key,
                    f"bank_proofs/scale/{bank_id}.pdf",
                    "rib.pdf",
                    active,
                    None if active else now - timedelta(days=rng.randrange(1, 300)),
                )
            )

    def chunk_approvals(self, rows, structure_id, user_first, user_ids, agents, reference):
        rng = self.rng
        for _i in range(3 if reference else rng.choice((0, 1))):
            approval_id = self.take("ApprovalRequest")
            if rng.random() < 0.5 and not reference and user_first > agents[-1] + 1:
                # Someone from elsewhere asks to join the whole structure.
                requester = rng.randrange(max(user_first - 3000, agents[-1] + 1), user_first)
                rows["ApprovalRequest"].append(
                    (approval_id, "RATTACHEMENT", requester, structure_id, None, "Je rejoins l’équipe.")
                )
            else:
                requester = rng.choice(user_ids[1:])
                rows["ApprovalRequest"].append(
                    (
                        approval_id,
                        "HABILITATIONS",
                        requester,
                        structure_id,
                        None,
                        "Besoin pour mon travail.",
                    )
                )
                code = rng.choice(self.other_apps)
                rows["profiles_to_add"].append(
                    (self.take("profiles_to_add"), approval_id, self.profiles[(code, Level.CONSULTATION)])
                )

    def ticket(self, rows, structure_id, user_ids, agents, emails):
        rng, now = self.rng, self.now
        ticket_id = self.take("Ticket")
        status = rng.choice(self.ticket_statuses)
        requester = rng.choice(user_ids)
        created = now - timedelta(minutes=rng.randrange(60, 2 * 365 * 24 * 60))
        subcategory, category, object_type, queue = rng.choice(self.subcategories)
        title = rng.choice(TICKET_SUBJECTS)
        draft = status == "BROUILLON"
        submitted = None if draft else created + timedelta(minutes=rng.randrange(1, 60))
        last = created if draft else submitted + timedelta(hours=rng.randrange(1, 24 * 20))
        assigned = rng.choice(agents) if status not in ("BROUILLON", "SOUMIS") else None
        resolved = last if status in ("RESOLU", "CLOTURE") else None
        closed = last if status == "CLOTURE" else None
        rows["Ticket"].append(
            (
                ticket_id,
                None if draft else self.ticket_number(submitted),
                requester,
                structure_id,
                emails[requester],
                category,
                subcategory,
                object_type,
                None if draft else self.queues[queue],
                title,
                f"{title} (structure {structure_id})",
                "Bonjour,\n\nJe rencontre une difficulté. Pouvez-vous m’aider ?\n\nMerci.",
                status,
                assigned,
                created,
                submitted,
                resolved,
                closed,
                last,
            )
        )
        if draft:
            return
        events = [
            (requester, "STATUS", "", "BROUILLON", "SOUMIS", submitted),
            (requester, "MESSAGE", "Merci de votre aide.", "", "", submitted),
        ]
        if assigned:
            events.append(
                (assigned, "MESSAGE", "Nous étudions votre demande.", "", "", submitted + timedelta(hours=1))
            )
            events.append((assigned, "STATUS", "", "SOUMIS", status, last))
        for author, kind, body, before, after, when in events:
            rows["TicketEvent"].append(
                (self.take("TicketEvent"), ticket_id, author, kind, body, before, after, when)
            )
