"""python manage.py sirene_refresh [--identifiers SIRET …] [--batch 100] [--since DATE]

Refreshes the structures identified by a SIRET from the INSEE Sirene register, with
the code of the "Mettre à jour depuis la base INSEE" page. One search call per batch
of up to 100 SIRETs (`siret:A OR siret:B …`) keeps a large refresh within the quota
of 30 calls per minute. Each structure is saved as soon as it is refreshed: after an
interruption, `--since <start of the interrupted run>` skips the ones already done.
"""

import sys
import time
from datetime import datetime

import requests
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from structures import sirene
from structures.models import Structure
from structures.services.insee import structure_update_from_insee

MAX_BATCH = 100


def _parse_since(value):
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since attend une date ou une date et heure ISO 8601, pas « {value} ».")
        moment = datetime.combine(day, datetime.min.time())
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Progress:
    """A progress bar on stderr: redrawn in place on a terminal, a line per step
    otherwise (logs)."""

    WIDTH = 30

    def __init__(self, stream, total):
        self.stream = stream
        self.total = total
        self.done = 0
        self.tty = stream.isatty()

    def advance(self, count):
        self.done += count
        filled = self.WIDTH * self.done // self.total if self.total else self.WIDTH
        percent = 100 * self.done // self.total if self.total else 100
        bar = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total} ({percent} %)"
        if self.tty:
            self.stream.write(f"\r{bar}", ending="")
            if self.done >= self.total:
                self.stream.write("")
        else:
            self.stream.write(bar)
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Met à jour depuis la base INSEE (Sirene) les structures identifiées par un SIRET, par lots de "
        "100 SIRET au plus par requête, et affiche les structures modifiées et fermées. Celery beat la lance "
        "chaque nuit quand REDIS_URL est défini (tâche structures.tasks.sirene_refresh)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--identifiers", nargs="+", metavar="SIRET", help="ces structures seulement (par défaut : toutes)"
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=MAX_BATCH,
            help=f"SIRET par requête, de 1 à {MAX_BATCH} ({MAX_BATCH})",
        )
        parser.add_argument(
            "--since",
            metavar="DATE",
            help="reprise : ignorer les structures déjà mises à jour depuis cette date (ISO 8601)",
        )

    def handle(self, *args, identifiers=None, batch=MAX_BATCH, since=None, **options):
        if not 1 <= batch <= MAX_BATCH:
            raise CommandError(f"--batch doit être compris entre 1 et {MAX_BATCH}.")
        started = timezone.now()
        cutoff = _parse_since(since) if since else None
        self.resume_hint = (
            f"Pour reprendre : python manage.py sirene_refresh --since {(cutoff or started).isoformat()}"
            + (f" --identifiers {' '.join(identifiers)}" if identifiers else "")
        )

        structures = Structure.objects.filter(identifier_type=Structure.IdentifierType.SIRET).order_by("pk")
        if identifiers:
            structures = structures.filter(
                identifier__in=[sirene.compact_siret(value) for value in identifiers]
            )
        if cutoff:
            structures = structures.exclude(insee_updated_at__gte=cutoff)
        candidates, invalid = [], []
        for pk, identifier in structures.values_list("pk", "identifier"):
            try:
                candidates.append((pk, sirene.validate_siret(identifier)))
            except sirene.InvalidSiret:
                invalid.append(identifier)

        with requests.Session() as session:  # one connection for every batch
            client = sirene.get_client(interactive=False, session=session)
            self._run(client, candidates, invalid, batch, started)

    def _run(self, client, candidates, invalid, batch, started):
        self.changed, self.closed, self.unknown, self.skipped = [], [], [], 0
        calls = 0
        progress = Progress(self.stderr, len(candidates))
        begin = time.monotonic()
        try:
            for start in range(0, len(candidates), batch):
                chunk = self._not_refreshed_since(candidates[start : start + batch], started)
                if chunk:
                    try:
                        found = client.get_sirets([siret for _pk, siret in chunk])
                    except sirene.SireneError as error:
                        raise CommandError(f"{error.message} ({error.detail})\n{self.resume_hint}") from None
                    calls += 1
                    for pk, siret in chunk:
                        self._refresh(pk, siret, found.get(siret))
                progress.advance(len(candidates[start : start + batch]))
        except KeyboardInterrupt:
            self.stderr.write("")
            self.stderr.write(f"Interrompu. {self.resume_hint}")
            sys.exit(130)
        self._summary(len(candidates), calls, invalid, time.monotonic() - begin)

    def _not_refreshed_since(self, chunk, started):
        """Leave out what was refreshed since this run started (the page, another run)."""
        done = set(
            Structure.objects.filter(
                pk__in=[pk for pk, _siret in chunk], insee_updated_at__gte=started
            ).values_list("pk", flat=True)
        )
        self.skipped += len(done)
        return [(pk, siret) for pk, siret in chunk if pk not in done]

    def _refresh(self, pk, siret, establishment):
        if establishment is None:
            self.unknown.append(siret)
            return
        result = structure_update_from_insee(structure_id=pk, establishment=establishment, actor=None)
        structure = result.structure
        if result.changes:
            fields = ", ".join(str(change.label) for change in result.changes)
            self.changed.append(f"{siret} {structure.display_name} : {fields}")
        if result.closed:
            since = establishment.state_since.strftime("%d/%m/%Y") if establishment.state_since else "?"
            status = (
                "" if structure.status == Structure.Status.INACTIVE else " ; toujours active sur le portail"
            )
            self.closed.append(f"{siret} {structure.display_name} (fermé depuis le {since}{status})")

    def _summary(self, total, calls, invalid, seconds):
        write = self.stdout.write
        write(
            self.style.SUCCESS(
                f"Mise à jour depuis la base INSEE : {total} structure(s) vérifiée(s) en {calls} requête(s) "
                f"({seconds:.1f} s)."
            )
        )
        sections = [
            ("Structures modifiées", self.changed),
            ("Établissements fermés à l’INSEE", self.closed),
            ("SIRET inconnus de la base INSEE", self.unknown),
            ("Identifiants SIRET invalides (non interrogés)", invalid),
        ]
        for title, rows in sections:
            write(f"{title} : {len(rows)}")
            for row in rows:
                write(f"  {row}")
        if self.skipped:
            write(f"Déjà mises à jour pendant l’exécution (ignorées) : {self.skipped}")
